/**
 * Search latency by namespace size: builds a small namespace, a large one and `--tenants`
 * namespaces of `--tenant-chunks` beside them in the bench's own database (documents of
 * the bench corpus, split in 1000-character chunks, embedded with the `hash` provider so
 * the model's time is not counted, the HNSW index built once over the loaded rows as a
 * re-embed does), and the first tenant's namespace alone in a second database. It starts an
 * API-only process on each and sends POST /v1/search from `--clients` concurrent clients
 * for `--seconds` per mode and namespace. Queries are 4–8 of the corpus's common words; the
 * tenant is also asked with a selective metadata filter (one document). It then checks
 * quality: recall@10 of the vector list against exact search, and the keyword list's
 * agreement with exhaustive BM25 (an API process with an unbounded SEARCH_KEYWORD_BUDGET).
 *
 *   npm run build && npm run bench:search -- [--chunks 100000] [--small 3500] [--tenants 100]
 *     [--tenant-chunks 10000] [--clients 8] [--seconds 10] [--db ingest_bench_search]
 *     [--timeout 7200] [--reuse] [--parts sizes,tenants,quality]
 *
 * --reuse keeps the namespaces an earlier run built (the databases are otherwise emptied first).
 * A quick run: --chunks 100000 --tenants 10 --tenant-chunks 5000.
 *
 * Figures are ratios against the small namespace, and the tenant's against the same
 * namespace alone, measured in the same run.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { toSql } from 'pgvector';
import { loadConfig } from '../src/config/app-config';
import { HashEmbeddingProvider } from '../src/embedding/hash-embedding.provider';
import { BenchDbTarget, checkDimension, databaseUrl, ensureBenchDatabase, resetTables } from './support/bench-db';
import { intFlag, runProcessBench } from './support/bench-main';
import { writeCeiling } from './support/ceiling-writer';
import { ChildRegistry, freePort, waitReady } from './support/child-processes';
import { commonWordQueries, generateCorpus } from './support/corpus';
import { CpuSnapshot, cpuSnapshot, loadAverage } from './support/cpu-usage';
import { SearchLoad, SearchRequest, SearchStats } from './support/search-load';

const DIMENSION = 384;
const DOC_BYTES = 5000;
const MODES = ['vector', 'keyword', 'hybrid'] as const;

interface Options {
  chunks: number;
  small: number;
  clients: number;
  seconds: number;
  db: string;
  timeout: number;
  /** Namespaces of `tenantChunks` chunks beside the large one. */
  tenants: number;
  tenantChunks: number;
  /** Keep the namespaces an earlier run built. */
  reuse: boolean;
  /** What to measure: latency by namespace size, the tenant beside and alone, quality. */
  parts: Set<string>;
}

const PARTS = ['sizes', 'tenants', 'quality'];

function options(argv: string[]): Options {
  const o: Options = { chunks: 100_000, small: 3500, clients: 8, seconds: 10, db: 'ingest_bench_search', timeout: 7200, tenants: 100, tenantChunks: 10_000, reuse: false, parts: new Set(PARTS) };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, v] = [argv[i], argv[i + 1]];
    if (flag === '--reuse') {
      o.reuse = true;
      i--;
    } else if (flag === '--chunks') o.chunks = intFlag(flag, v, 1000);
    else if (flag === '--small') o.small = intFlag(flag, v, 100);
    else if (flag === '--tenants') o.tenants = intFlag(flag, v, 0);
    else if (flag === '--tenant-chunks') o.tenantChunks = intFlag(flag, v, 100);
    else if (flag === '--clients') o.clients = intFlag(flag, v, 1);
    else if (flag === '--seconds') o.seconds = intFlag(flag, v, 1);
    else if (flag === '--timeout') o.timeout = intFlag(flag, v, 60);
    else if (flag === '--db') o.db = String(v);
    else if (flag === '--parts') {
      o.parts = new Set(String(v).split(','));
      const unknown = [...o.parts].filter((p) => !PARTS.includes(p));
      if (unknown.length > 0) throw new Error(`--parts takes ${PARTS.join(', ')}; got ${unknown.join(', ')}`);
    }
    else throw new Error(`unknown option ${flag}`);
  }
  return o;
}

/** The first tenant's namespace; the same documents make the namespace of the database alone. */
const TENANT = 'tenant-000';
/** Seeds of the generated documents: the tenants' (TENANT_SEED + i) never meet the others'. */
const TENANT_SEED = 100_000;

/** A namespace to build: its name, how many chunks and the corpus seed its documents start from. */
interface NamespaceSpec {
  name: string;
  chunks: number;
  seed: number;
}

interface Measured {
  namespace: string;
  mode: string;
  stats: SearchStats;
  /** CPU milliseconds per answered query: the API process's, and its Postgres connections'. */
  cpu: { api: number; postgres: number };
}

class SearchBench {
  private readonly children = new ChildRegistry();
  private readonly logDir = mkdtempSync(path.join(tmpdir(), 'search-bench-'));
  private readonly target: BenchDbTarget;
  /** A database holding only the first tenant's namespace: the tenant's latency alone. */
  private readonly aloneTarget: BenchDbTarget;
  private readonly embedder = new HashEmbeddingProvider(DIMENSION);
  private db?: Client;
  /** Chunks written per namespace. */
  private readonly sizes = new Map<string, number>();
  /** Each started API's process id and database, by URL. */
  private readonly apis = new Map<string, { pid: number | undefined; database: string }>();

  constructor(private readonly o: Options) {
    const base = loadConfig({ ...process.env, EMBEDDING_PROVIDER: 'hash' }).postgres;
    this.target = { host: base.host, port: base.port, user: base.user, database: o.db };
    this.aloneTarget = { ...this.target, database: `${o.db}_alone` };
  }

  logTails(): string {
    return this.children.logTails();
  }

  async cleanup(): Promise<void> {
    await this.children.stopAll();
    await this.db?.end().catch(() => undefined);
  }

  async run(): Promise<void> {
    const o = this.o;
    console.log(
      `database ${o.db}; namespaces: small ${o.small} chunks, large ${o.chunks} chunks, ${o.tenants} tenants of ${o.tenantChunks} chunks; ` +
        `${o.clients} clients, ${o.seconds} s per mode`,
    );
    this.db = await this.open(this.target);
    const tenants = Array.from({ length: o.tenants }, (_, i) => ({ name: `tenant-${String(i).padStart(3, '0')}`, chunks: o.tenantChunks, seed: TENANT_SEED + i }));
    const layout: NamespaceSpec[] = [{ name: 'small', chunks: o.small, seed: 1 }, { name: 'large', chunks: o.chunks, seed: 2 }, ...tenants];
    if (o.reuse) {
      const counts = await this.db.query<{ namespace: string; n: string }>(`SELECT namespace, count(*) AS n FROM chunks GROUP BY namespace`);
      for (const r of counts.rows) this.sizes.set(r.namespace, Number(r.n));
    } else {
      await this.build(this.db, this.target, layout);
      if (o.tenants > 0) {
        const alone = await this.open(this.aloneTarget);
        try {
          await this.build(alone, this.aloneTarget, [tenants[0]]);
        } finally {
          await alone.end();
        }
      }
    }

    const api = await this.startApi('api', this.target, {});
    const asked = commonWordQueries(64, 11, DOC_BYTES);
    if (o.parts.has('sizes')) {
      const results: Measured[] = [];
      for (const namespace of ['small', 'large']) {
        for (const mode of MODES) results.push(await this.measure(api, namespace, mode, asked.map((query) => ({ query, namespace, mode }))));
      }
      this.report(results);
    }
    if (o.parts.has('tenants') && o.tenants > 0) await this.tenants(api, asked);
    if (o.parts.has('quality')) await this.quality(api, asked);
  }

  /**
   * The first tenant's searches beside the large namespace and the other tenants, against
   * the same namespace alone in a database of its own; with and without a selective filter
   * (one document of the tenant's), which must still find its rows.
   */
  private async tenants(api: string, asked: string[]): Promise<void> {
    const alone = await this.startApi('api-alone', this.aloneTarget, {});
    const docs = Math.max(1, Math.floor(this.o.tenantChunks / 10));
    const kinds = [...MODES.map((mode) => ({ mode, label: mode, filtered: false })), ...MODES.filter((m) => m !== 'vector').map((mode) => ({ mode, label: `${mode}+filter`, filtered: true }))];
    console.log(`\n| mode | ${TENANT} beside p50 / p99 ms | alone p50 / p99 ms | p99 beside vs alone | Postgres CPU per query beside / alone | empty answers beside / alone |`);
    console.log(`| --- | --- | --- | --- | --- | --- |`);
    for (const k of kinds) {
      const bodies = asked.map((query, i) => ({ query, namespace: TENANT, mode: k.mode, ...(k.filtered ? { filter: { index: (i * 37) % docs } } : {}) }));
      const [beside, byItself] = [await this.measure(api, TENANT, k.label, bodies, false), await this.measure(alone, TENANT, k.label, bodies, false)];
      const [b, a] = [beside.stats, byItself.stats];
      console.log(
        `| ${k.label} | ${b.p50.toFixed(1)} / ${b.p99.toFixed(1)} | ${a.p50.toFixed(1)} / ${a.p99.toFixed(1)} | ${(b.p99 / a.p99).toFixed(2)}x | ` +
          `${beside.cpu.postgres.toFixed(2)} / ${byItself.cpu.postgres.toFixed(2)} ms | ${b.empty}/${b.count} / ${a.empty}/${a.count} |`,
      );
    }
  }

  /** One stretch of load: the bodies (topK 10) from `--clients` clients for `--seconds`, after a short warm-up. */
  private async measure(api: string, namespace: string, mode: string, bodies: Array<Record<string, unknown>>, print = true): Promise<Measured> {
    const requests: SearchRequest[] = bodies.map((body) => ({ label: mode, body: { topK: 10, ...body } }));
    // Warm the caches, the process's statistics and as many pooled connections as clients.
    await SearchLoad.for(api, requests.slice(0, 8), this.o.clients, 1000);
    const before = await this.cpu(api);
    const stats = await SearchLoad.for(api, requests, this.o.clients, this.o.seconds * 1000);
    const after = await this.cpu(api);
    // Per process, over those alive at both ends: a pooled connection closed meanwhile takes its time with it.
    const used = (prefix: string): number =>
      [...after.keys()].filter((k) => k.startsWith(prefix) && before.has(k)).reduce((sum, k) => sum + (after.get(k) as number) - (before.get(k) as number), 0);
    const cpu = { api: (used('api') * 1000) / Math.max(1, stats.count), postgres: (used('postgres:') * 1000) / Math.max(1, stats.count) };
    if (print || stats.non200 > 0) {
      console.log(
        `  ${namespace.padEnd(5)} ${mode.padEnd(7)} p50 ${stats.p50.toFixed(1)} ms, p99 ${stats.p99.toFixed(1)} ms, ` +
          `${(stats.count / stats.seconds).toFixed(1)} q/s, CPU per query: API ${cpu.api.toFixed(2)} ms, Postgres ${cpu.postgres.toFixed(2)} ms, ` +
          `non-200 ${stats.non200}${stats.firstError ? ` (${stats.firstError})` : ''}`,
      );
    }
    return { namespace, mode, stats, cpu };
  }

  /**
   * CPU seconds so far of an API process and of the Postgres backends serving it: on a
   * shared machine, the cost of a query that other load cannot inflate as it does latency.
   */
  private async cpu(api: string): Promise<CpuSnapshot> {
    const { pid, database } = this.apis.get(api) as { pid: number | undefined; database: string };
    const backends = await (this.db as Client).query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [
      database,
    ]);
    return cpuSnapshot([{ name: 'api', pid }, ...backends.rows.map((r) => ({ name: `postgres:${r.pid}`, pid: r.pid }))]);
  }

  /** A bench database, created and migrated if need be, with the vector column the bench embeds for. */
  private async open(target: BenchDbTarget): Promise<Client> {
    await ensureBenchDatabase(target, { ...process.env, EMBEDDING_PROVIDER: 'hash', EMBEDDING_DIMENSION: String(DIMENSION) });
    const db = new Client({ connectionString: databaseUrl(target) });
    await db.connect();
    await checkDimension(db, DIMENSION);
    return db;
  }

  /** The namespaces, loaded with the HNSW index dropped and then built once over the rows. */
  private async build(db: Client, target: BenchDbTarget, layout: NamespaceSpec[]): Promise<void> {
    await resetTables(db);
    const spec = { provider: 'hash', modelId: this.embedder.modelId, dimension: DIMENSION };
    await db.query(
      `INSERT INTO embedding_generations (status, model, dimension, spec, activated_at) VALUES ('active', $1, $2, $3, now())`,
      [spec.modelId, DIMENSION, JSON.stringify(spec)],
    );
    const [index] = (await db.query<{ def: string }>(`SELECT indexdef AS def FROM pg_indexes WHERE indexname = 'chunks_embedding_hnsw_idx'`)).rows;
    await db.query(`DROP INDEX IF EXISTS chunks_embedding_hnsw_idx`);
    const connectionString = databaseUrl(target);
    for (const ns of layout) {
      const started = performance.now();
      let written = 0;
      let seed = ns.seed * 1000;
      // In slices, so a million chunks never sit in memory at once.
      while (written < ns.chunks) {
        // A document of DOC_BYTES makes about nine chunks.
        const docs = generateCorpus(seed++, Math.min(2000, Math.max(1, Math.ceil((ns.chunks - written) / 9))), DOC_BYTES);
        const r = await writeCeiling(docs, { connectionString, namespace: ns.name, chunkSize: 1000, chunkOverlap: 150, embedder: this.embedder, docsPerTransaction: 50 });
        written += r.chunks;
      }
      this.sizes.set(ns.name, written);
      if (layout.length <= 3 || !ns.name.startsWith('tenant-') || ns.name === TENANT) {
        console.log(`  ${target.database}/${ns.name}: ${written} chunks written in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      }
    }
    const started = performance.now();
    // The graph is built fastest in memory: about 2.5 kB per 384-dimension row (vector and links).
    const rows = [...this.sizes.values()].reduce((a, b) => a + b, 0);
    await db.query(`SET maintenance_work_mem = '${Math.min(8192, Math.max(1024, Math.ceil((rows * 2.5) / 1024)))}MB'`);
    await db.query(index.def);
    await db.query(`RESET maintenance_work_mem`);
    await db.query(`VACUUM ANALYZE chunks`);
    await db.query(`VACUUM ANALYZE documents`);
    console.log(`  ${target.database}: HNSW index built and tables analysed in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }

  private async startApi(name: string, target: BenchDbTarget, extraEnv: Record<string, string>): Promise<string> {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: databaseUrl(target),
      EMBEDDING_PROVIDER: 'hash',
      EMBEDDING_DIMENSION: String(DIMENSION),
      ROLE: 'api',
      PORT: String(port),
      QUEUE_PREFIX: `bench-search-${process.pid}`,
      // A benchmark measures the service, not its per-caller budgets.
      RATE_LIMIT_WRITE_PER_MIN: '0',
      RATE_LIMIT_SEARCH_PER_MIN: '0',
      ...extraEnv,
    };
    const proc = this.children.start(name, path.join(__dirname, '../src/main.js'), env, port, path.join(this.logDir, `${name}.log`));
    await waitReady(proc, '/health/ready', 60000);
    this.apis.set(proc.url, { pid: proc.child.pid, database: target.database });
    return proc.url;
  }

  private report(results: Measured[]): void {
    console.log(`\n| mode | namespace | chunks | p50 ms | p99 ms | queries/s | p99 vs small | CPU ms per query (API + Postgres) |`);
    console.log(`| --- | --- | --- | --- | --- | --- | --- | --- |`);
    for (const mode of MODES) {
      const small = results.find((r) => r.namespace === 'small' && r.mode === mode)?.stats;
      for (const r of results.filter((x) => x.mode === mode)) {
        const s = r.stats;
        const chunks = this.sizes.get(r.namespace) ?? 0;
        const ratio = small ? (s.p99 / small.p99).toFixed(2) : '-';
        console.log(`| ${mode} | ${r.namespace} | ${chunks} | ${s.p50.toFixed(1)} | ${s.p99.toFixed(1)} | ${(s.count / s.seconds).toFixed(1)} | ${ratio}x | ${r.cpu.api.toFixed(2)} + ${r.cpu.postgres.toFixed(2)} |`);
      }
    }
  }

  /**
   * Recall@10 of the vector list against exact search (a sequential scan) in the large
   * namespace, and the keyword list's agreement with exhaustive BM25 there.
   */
  private async quality(api: string, asked: string[]): Promise<void> {
    const db = this.db as Client;
    const sample = asked.slice(0, 32);
    const ask = async (url: string, query: string, mode: string): Promise<string[]> => {
      const res = await fetch(`${url}/v1/search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, namespace: 'large', mode, topK: 10 }),
      });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`${mode} search in ${url} answered ${res.status}: ${text.slice(0, 300)}`);
      return (JSON.parse(text) as { results: Array<{ chunkId: string }> }).results.map((r) => r.chunkId);
    };
    let found = 0;
    let wanted = 0;
    for (const query of sample) {
      const [vector] = await this.embedder.embed([query]);
      await db.query('BEGIN');
      await db.query('SET LOCAL enable_indexscan = off');
      const exact = await db.query<{ d: number }>(
        `SELECT embedding <=> $1::vector AS d FROM chunks WHERE namespace = 'large' ORDER BY embedding <=> $1::vector LIMIT 10`,
        [toSql(vector)],
      );
      await db.query('COMMIT');
      // By distance, not id: the bench corpus repeats sentences, so many chunks tie.
      const got = await ask(api, query, 'vector');
      const distances = await db.query<{ d: number }>(`SELECT embedding <=> $1::vector AS d FROM chunks WHERE id = ANY($2::uuid[])`, [
        toSql(vector),
        got,
      ]);
      const kth = Number(exact.rows[exact.rows.length - 1]?.d ?? 0);
      wanted += exact.rows.length;
      found += Math.min(exact.rows.length, distances.rows.filter((r) => Number(r.d) <= kth + 1e-9).length);
    }
    console.log(`\nvector recall@10 against exact search, by distance (large namespace, ${sample.length} queries): ${(found / wanted).toFixed(3)}`);

    const exhaustive = await this.startApi('api-exhaustive', this.target, {
      SEARCH_KEYWORD_BUDGET: '100000000',
      SEARCH_EXACT_MAX_CHUNKS: '0',
      // Exhaustive scoring of common words takes seconds: it must answer, however slowly.
      SEARCH_STATEMENT_TIMEOUT_MS: '120000',
      SEARCH_QUEUE_TIMEOUT_MS: '120000',
    });
    // The baseline: the same queries scored exhaustively, as before keyword budgets.
    for (const mode of ['keyword', 'hybrid']) {
      const requests: SearchRequest[] = asked.map((query) => ({ label: mode, body: { query, namespace: 'large', mode, topK: 10 } }));
      const s = await SearchLoad.for(exhaustive, requests, this.o.clients, Math.max(20, this.o.seconds) * 1000);
      console.log(
        `baseline (exhaustive BM25) large ${mode}: p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, ` +
          `${(s.count / s.seconds).toFixed(2)} q/s over ${s.count} queries`,
      );
    }
    let sameFirst = 0;
    let overlap = 0;
    for (const query of sample) {
      const [bounded, exact] = await Promise.all([ask(api, query, 'keyword'), ask(exhaustive, query, 'keyword')]);
      if (bounded[0] === exact[0]) sameFirst++;
      const set = new Set(exact);
      overlap += bounded.filter((id) => set.has(id)).length / Math.max(1, exact.length);
    }
    console.log(
      `keyword list against exhaustive BM25 (large namespace, ${sample.length} queries): same first result ` +
        `${sameFirst}/${sample.length}, overlap@10 ${(overlap / sample.length).toFixed(3)}`,
    );
  }
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  const bench = new SearchBench(o);
  await runProcessBench(bench, o.timeout, () => bench.run());
  console.log(`load average at the end: ${loadAverage()}`);
}

void main();
