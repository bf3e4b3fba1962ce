/**
 * Zero-downtime re-embed: how fast the service moves every document into a new embedding
 * generation, and what that costs the searches it answers meanwhile. The real service runs
 * as child processes (an API and worker processes) on its own database and queue prefix:
 *
 *   1. ingest --docs documents through the API with the hash provider at 384 dimensions;
 *   2. search load (--clients closed-loop clients, mixed modes) for --search-seconds: baseline;
 *   3. restart the API and workers at EMBEDDING_DIMENSION=256 (another model id and
 *      dimension): the re-embed starts by itself; POST /v1/reindex must answer 202 with
 *      its progress; the same search load runs until the switch;
 *   4. the same load again for --search-seconds after the switch;
 *   5. checks: `chunks` is 256-dimensional, `chunks_next` is gone, every chunk is the new
 *      model's, and the chunk count is the sum of the ready documents' chunk counts.
 *
 *   npm run build && npm run bench:reindex -- [--docs 1000] [--size 4000] [--workers 2]
 *       [--clients 5] [--search-seconds 20] [--in-flight 16] [--timeout 1800]
 *       [--db ingest_bench_reindex] [--prefix reindex-bench] [--seed 42] [--env KEY=VALUE ...]
 *
 * --env passes extra variables to every service process (e.g. --env REINDEX_CONCURRENCY=4).
 * Needs Postgres with pgvector and Redis as the service does (DATABASE_URL's host/port/user
 * and REDIS_URL are honoured; the database name is the bench's own). Exits 1 when a check fails.
 */
import { Redis } from 'ioredis';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { loadConfig } from '../src/config/app-config';
import { BenchDbTarget, databaseUrl, ensureBenchDatabase, resetTables } from './support/bench-db';
import { ChildRegistry, ServiceProcess, freePort, sleep, waitReady } from './support/child-processes';
import { generateCorpus } from './support/corpus';
import { intFlag, runProcessBench } from './support/bench-main';
import { loadAverage } from './support/cpu-usage';
import { SearchLoad, SearchRequest, SearchStats, searchMix } from './support/search-load';

const OLD_DIMENSION = 384;
const NEW_DIMENSION = 256;
const NEW_MODEL = `hash:fnv1a-uni-bigram-${NEW_DIMENSION}`;
const NAMESPACE = 'bench';

interface Options {
  docs: number;
  size: number;
  seed: number;
  workers: number;
  clients: number;
  searchSeconds: number;
  inFlight: number;
  timeoutSeconds: number;
  db: string;
  prefix: string;
  extraEnv: Record<string, string>;
}

/** GET/POST /v1/reindex, as far as the bench reads it. */
interface ReindexView {
  active: { generation: number; model: string; dimension: number; activatedAt: string | null };
  reindex: {
    generation: number;
    state: 'running' | 'complete' | 'cancelled';
    model: string;
    dimension: number;
    documents: { total: number; done: number; failed: number } | null;
    startedAt: string;
    finishedAt: string | null;
  } | null;
}

interface Throughput {
  docs: number;
  chunks: number;
  seconds: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    docs: 1000,
    size: 4000,
    seed: 42,
    workers: 2,
    clients: 5,
    searchSeconds: 20,
    inFlight: 16,
    timeoutSeconds: 1800,
    db: 'ingest_bench_reindex',
    prefix: 'reindex-bench',
    extraEnv: {},
  };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, v] = [argv[i], argv[i + 1]];
    switch (flag) {
      case '--docs': o.docs = intFlag(flag, v, 1); break;
      case '--size': o.size = intFlag(flag, v, 100); break;
      case '--seed': o.seed = intFlag(flag, v, 0); break;
      case '--workers': o.workers = intFlag(flag, v, 1); break;
      case '--clients': o.clients = intFlag(flag, v, 1); break;
      case '--search-seconds': o.searchSeconds = intFlag(flag, v, 1); break;
      case '--in-flight': o.inFlight = intFlag(flag, v, 1); break;
      case '--timeout': o.timeoutSeconds = intFlag(flag, v, 1); break;
      case '--db': o.db = String(v); break;
      case '--prefix': o.prefix = String(v); break;
      case '--env': {
        const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(String(v));
        if (!m) throw new Error(`--env takes KEY=VALUE, got ${v}`);
        o.extraEnv[m[1]] = m[2];
        break;
      }
      default:
        throw new Error(`unknown argument ${flag}`);
    }
  }
  return o;
}

async function deleteQueueKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

const fmtMs = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '-');

class ReindexBench {
  private readonly children = new ChildRegistry();
  private readonly logDir = mkdtempSync(path.join(tmpdir(), 'reindex-bench-'));
  private readonly redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  private readonly target: BenchDbTarget;
  private readonly searches: SearchRequest[];
  private db?: Client;
  private api?: ServiceProcess;
  private cleaned = false;
  /** Failed checks; the bench exits 1 when there are any. */
  readonly failures: string[] = [];

  constructor(private readonly o: Options) {
    const base = loadConfig({ ...process.env, EMBEDDING_PROVIDER: 'hash' }).postgres;
    this.target = { host: base.host, port: base.port, user: base.user, database: o.db };
    this.searches = searchMix(o.seed + 1, 240, NAMESPACE);
  }

  async run(): Promise<void> {
    const o = this.o;
    console.log(`database ${this.target.database} on ${this.target.host}:${this.target.port}, queue prefix ${o.prefix}, logs in ${this.logDir}`);
    await ensureBenchDatabase(this.target, { ...process.env, EMBEDDING_PROVIDER: 'hash', EMBEDDING_DIMENSION: String(OLD_DIMENSION) });
    this.db = new Client({ connectionString: databaseUrl(this.target) });
    await this.db.connect();
    // Every table emptied, embedding generations with them: the first start is a new deployment.
    await resetTables(this.db);
    await deleteQueueKeys(this.redisUrl, o.prefix);

    console.log(`\n== ingest at ${OLD_DIMENSION} dimensions (load average ${loadAverage()})`);
    await this.startServices(OLD_DIMENSION, 'old');
    const ingest = await this.ingest();
    console.log(`  ${ingest.docs} ready, ${ingest.chunks} chunks in ${ingest.seconds.toFixed(1)} s`);

    console.log(`\n== baseline search load: ${o.clients} clients for ${o.searchSeconds} s (load average ${loadAverage()})`);
    const before = await SearchLoad.for(this.api!.url, this.searches, o.clients, o.searchSeconds * 1000);
    this.printSearch(before);
    await this.children.stopAll();

    console.log(`\n== restart at EMBEDDING_DIMENSION=${NEW_DIMENSION}: re-embed under search load (load average ${loadAverage()})`);
    const { reembed, during } = await this.reembed();

    console.log(`\n== search load after the switch: ${o.clients} clients for ${o.searchSeconds} s`);
    const after = await SearchLoad.for(this.api!.url, this.searches, o.clients, o.searchSeconds * 1000);
    this.printSearch(after);

    await this.verify();
    await this.children.stopAll();
    this.summary(ingest, reembed, before, during, after);
  }

  /** An API and `--workers` worker processes embedding with the hash provider at `dimension`. */
  private async startServices(dimension: number, tag: string): Promise<void> {
    const o = this.o;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: databaseUrl(this.target),
      REDIS_URL: this.redisUrl,
      QUEUE_PREFIX: o.prefix,
      EMBEDDING_PROVIDER: 'hash',
      EMBEDDING_DIMENSION: String(dimension),
      // A benchmark measures the service, not its per-caller budgets.
      RATE_LIMIT_WRITE_PER_MIN: '0',
      RATE_LIMIT_SEARCH_PER_MIN: '0',
      ...o.extraEnv,
    };
    const apiPort = await freePort();
    this.api = this.children.start('api', path.join(__dirname, '../src/main.js'), { ...env, ROLE: 'api', PORT: String(apiPort) }, apiPort, path.join(this.logDir, `api-${tag}.log`));
    // The API first: with a new model it records the building generation before any worker looks.
    await waitReady(this.api, '/health/ready', 60000);
    const workers: ServiceProcess[] = [];
    for (let w = 1; w <= o.workers; w++) {
      const port = await freePort();
      const script = path.join(__dirname, '../src/worker.js');
      workers.push(this.children.start(`worker${w}`, script, { ...env, WORKER_PORT: String(port) }, port, path.join(this.logDir, `worker${w}-${tag}.log`)));
    }
    await Promise.all(workers.map((p) => waitReady(p, '/health/ready', 60000)));
  }

  /** Posts the corpus with `--in-flight` requests at once; returns when every document settled. */
  private async ingest(): Promise<Throughput> {
    const o = this.o;
    const bodies = generateCorpus(o.seed, o.docs, o.size).map((d) => JSON.stringify({ ...d, namespace: NAMESPACE }));
    const t0 = performance.now();
    let next = 0;
    let rejected = 0;
    await Promise.all(
      Array.from({ length: Math.min(o.inFlight, bodies.length) }, async () => {
        while (next < bodies.length) {
          const res = await fetch(`${this.api!.url}/v1/documents`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bodies[next++] });
          await res.arrayBuffer();
          if (res.status !== 202) rejected++;
        }
      }),
    );
    if (rejected > 0) this.failures.push(`${rejected} documents were not accepted`);
    const counts = await this.waitSettled(o.docs - rejected);
    const seconds = (performance.now() - t0) / 1000;
    if (counts.failed > 0) this.failures.push(`${counts.failed} documents failed to ingest`);
    return { docs: counts.ready, chunks: await this.count(`SELECT count(*) AS n FROM chunks`), seconds };
  }

  /**
   * Restarts the service with the new model and measures the re-embed from the moment
   * every process is ready until the generation became active, with the search load running.
   */
  private async reembed(): Promise<{ reembed: Throughput; during: SearchStats }> {
    const o = this.o;
    await this.startServices(NEW_DIMENSION, 'new');
    const readyAt = (await this.db!.query<{ now: Date }>('SELECT clock_timestamp() AS now')).rows[0].now;
    const load = new SearchLoad(this.api!.url, this.searches, o.clients);
    load.start();

    const res = await fetch(`${this.api!.url}/v1/reindex`, { method: 'POST' });
    const started = (await res.json()) as ReindexView;
    const docs = started.reindex?.documents;
    console.log(`  POST /v1/reindex -> ${res.status}: ${started.reindex?.state} into ${started.reindex?.model}, ${docs ? `${docs.done}/${docs.total} done` : 'no progress'}`);
    if (res.status !== 202) this.failures.push(`POST /v1/reindex answered ${res.status}, not 202`);
    if (started.reindex?.model !== NEW_MODEL || !docs || docs.total !== o.docs) {
      this.failures.push(`POST /v1/reindex did not show the running re-embed into ${NEW_MODEL} of ${o.docs} documents: ${JSON.stringify(started)}`);
    }

    let lastLog = performance.now();
    const deadline = Date.now() + o.timeoutSeconds * 1000;
    let view: ReindexView;
    for (;;) {
      view = (await (await fetch(`${this.api!.url}/v1/reindex`)).json()) as ReindexView;
      if (view.reindex?.state !== 'running') break;
      if (performance.now() - lastLog > 10000) {
        lastLog = performance.now();
        const d = view.reindex.documents;
        console.log(`  ${d?.done}/${d?.total} re-embedded, ${d?.failed} failed`);
      }
      if (Date.now() > deadline) throw new Error(`the re-embed did not finish: ${JSON.stringify(view)}`);
      await sleep(200);
    }
    const during = await load.stop();
    if (view.reindex?.state !== 'complete' || view.active.model !== NEW_MODEL) {
      throw new Error(`the re-embed ended without switching to ${NEW_MODEL}: ${JSON.stringify(view)}`);
    }
    const switchedAt = new Date(view.active.activatedAt as string);
    const seconds = (switchedAt.getTime() - readyAt.getTime()) / 1000;
    const sinceCreated = (switchedAt.getTime() - new Date(view.reindex.startedAt).getTime()) / 1000;
    const reembed: Throughput = {
      docs: await this.count(`SELECT count(*) AS n FROM documents WHERE status = 'ready'`),
      chunks: await this.count(`SELECT count(*) AS n FROM chunks`),
      seconds,
    };
    console.log(
      `  switched to generation ${view.active.generation} (${view.active.model}) ${seconds.toFixed(1)} s after every process was ready ` +
        `(${sinceCreated.toFixed(1)} s after the generation was created)`,
    );
    this.printSearch(during);
    return { reembed, during };
  }

  /** The end state a finished re-embed must leave. */
  private async verify(): Promise<void> {
    const db = this.db!;
    const check = (ok: boolean, what: string): void => {
      console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}`);
      if (!ok) this.failures.push(what);
    };
    console.log('\n== checks');
    const dim = await this.count(`SELECT atttypmod AS n FROM pg_attribute WHERE attrelid = 'chunks'::regclass AND attname = 'embedding'`);
    check(dim === NEW_DIMENSION, `chunks.embedding is vector(${NEW_DIMENSION}) (found ${dim})`);
    const next = (await db.query<{ t: string | null }>(`SELECT to_regclass('chunks_next')::text AS t`)).rows[0].t;
    check(next === null, `chunks_next is gone (found ${next})`);
    const chunks = await this.count(`SELECT count(*) AS n FROM chunks`);
    const expected = await this.count(`SELECT coalesce(sum(chunk_count), 0) AS n FROM documents WHERE status = 'ready'`);
    check(chunks === expected && chunks > 0, `chunk count ${chunks} = sum of the ready documents' chunk_count ${expected}`);
    const otherModel = await this.count(`SELECT count(*) AS n FROM chunks WHERE model <> '${NEW_MODEL}'`);
    check(otherModel === 0, `every chunk is ${NEW_MODEL} (${otherModel} are not)`);
    const duplicates = await this.count(`SELECT count(*) - count(DISTINCT (document_id, chunk_index)) AS n FROM chunks`);
    check(duplicates === 0, `no duplicate (document, chunk index) (${duplicates})`);
    const ready = await this.count(`SELECT count(*) AS n FROM documents WHERE status = 'ready'`);
    check(ready === this.o.docs, `all ${this.o.docs} documents ready (${ready})`);
  }

  private async waitSettled(expected: number): Promise<{ ready: number; failed: number }> {
    const deadline = Date.now() + this.o.timeoutSeconds * 1000;
    let lastLog = performance.now();
    for (;;) {
      const r = await this.db!.query<{ status: string; n: string }>(`SELECT status, count(*) AS n FROM documents GROUP BY status`);
      const c = Object.fromEntries(r.rows.map((row) => [row.status, Number(row.n)]));
      const ready = c.ready ?? 0;
      const failed = c.failed ?? 0;
      if (ready + failed >= expected) return { ready, failed };
      if (performance.now() - lastLog > 10000) {
        lastLog = performance.now();
        console.log(`  ready ${ready}, failed ${failed}, of ${expected}`);
      }
      if (Date.now() > deadline) throw new Error(`documents did not settle: ${JSON.stringify(c)}`);
      await sleep(100);
    }
  }

  private async count(sql: string): Promise<number> {
    return Number((await this.db!.query<{ n: string }>(sql)).rows[0].n);
  }

  private printSearch(s: SearchStats): void {
    const modes = [...s.byLabel].map(([label, m]) => `${label} ${fmtMs(m.p50)}/${fmtMs(m.p95)}`).join(', ');
    console.log(
      `  ${s.count} searches in ${s.seconds.toFixed(1)} s (${(s.count / s.seconds).toFixed(1)}/s), non-200 ${s.non200}, empty ${s.empty}; ` +
        `p50 ${fmtMs(s.p50)} p95 ${fmtMs(s.p95)} p99 ${fmtMs(s.p99)} max ${fmtMs(s.max)} ms`,
    );
    console.log(`    p50/p95 ms by mode: ${modes}`);
    if (s.firstError) console.log(`    first error: ${s.firstError}`);
  }

  private summary(ingest: Throughput, reembed: Throughput, before: SearchStats, during: SearchStats, after: SearchStats): void {
    const o = this.o;
    const extra = Object.entries(o.extraEnv).map(([k, v]) => ` ${k}=${v}`).join('');
    console.log(
      `\n== summary: ${o.docs} docs of ~${o.size} bytes, hash ${OLD_DIMENSION} -> ${NEW_DIMENSION} dimensions, ` +
        `API + ${o.workers} workers${extra}, ${o.clients} search clients`,
    );
    const rate = (t: Throughput): string[] => [t.docs.toFixed(0), t.chunks.toFixed(0), t.seconds.toFixed(1), (t.docs / t.seconds).toFixed(1), (t.chunks / t.seconds).toFixed(0)];
    table(['work', 'docs', 'chunks', 'wall s', 'docs/s', 'chunks/s'], [
      ['ingest (384)', ...rate(ingest)],
      ['re-embed (256)', ...rate(reembed)],
    ]);
    console.log(`re-embed docs/s / ingest docs/s = ${(reembed.docs / reembed.seconds / (ingest.docs / ingest.seconds)).toFixed(2)}`);
    console.log('');
    const row = (name: string, s: SearchStats): string[] => [
      name, s.seconds.toFixed(1), String(s.count), (s.count / s.seconds).toFixed(1), String(s.non200), String(s.empty), fmtMs(s.p50), fmtMs(s.p95), fmtMs(s.p99),
    ];
    table(['search load', 'wall s', 'searches', '/s', 'non-200', 'empty', 'p50 ms', 'p95 ms', 'p99 ms'], [
      row('before (baseline)', before),
      row('during re-embed', during),
      row('after switch', after),
    ]);
    const ratio = (a: number, b: number): string => (a / b).toFixed(2);
    console.log(
      `latency during / before: p50 ${ratio(during.p50, before.p50)}x, p95 ${ratio(during.p95, before.p95)}x, p99 ${ratio(during.p99, before.p99)}x; ` +
        `after / before: p50 ${ratio(after.p50, before.p50)}x, p95 ${ratio(after.p95, before.p95)}x`,
    );
    const non200 = before.non200 + during.non200 + after.non200;
    if (non200 > 0) this.failures.push(`${non200} searches did not answer 200`);
  }

  /** Stops every child, removes the bench's queue keys and closes the database; safe to call twice. */
  async cleanup(): Promise<void> {
    if (this.cleaned) return;
    this.cleaned = true;
    await this.children.stopAll();
    await deleteQueueKeys(this.redisUrl, this.o.prefix).catch(() => undefined);
    await this.db?.end().catch(() => undefined);
  }

  logTails(): string {
    return this.children.logTails();
  }
}

function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(fmt(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(fmt(r));
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const bench = new ReindexBench(o);
  console.log(`reindex bench: ${o.docs} docs of ~${o.size} bytes (seed ${o.seed}); load average at start ${loadAverage()}`);
  await runProcessBench(bench, o.timeoutSeconds, () => bench.run());
  if (bench.failures.length > 0) {
    console.error(`\n${bench.failures.length} check(s) FAILED:\n  ${bench.failures.join('\n  ')}`);
    process.exitCode = 1;
  }
}

void main();
