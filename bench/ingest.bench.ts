/**
 * End-to-end ingest throughput: the real service (API + worker processes over HTTP,
 * BullMQ, Postgres/pgvector) against a plain batched write loop into the same tables
 * ("ceiling"), on a seeded corpus, with the hash embedding provider so the pipeline is
 * measured rather than the model.
 *
 *   npm run build && npm run bench -- [--docs 2000] [--size 10000] [--workers 2] [--concurrency 4]
 *       [--in-flight 16] [--pool N] [--batch 20] [--timeout 1800] [--phases service,ceiling1,ceiling2,backfill]
 *       [--backfill-batch 100] [--recall-queries 100]
 *       [--db ingest_bench] [--prefix ingest-bench] [--seed 42] [--env KEY=VALUE ...]
 *
 * Phases: `queueadd` adds as many bare jobs to a scratch BullMQ queue as there are documents,
 * with --in-flight concurrent callers (the rate the accept path is compared with); `httpfloor`
 * posts the same bodies, as many at once, to a plain `node:http` server that reads them and
 * answers 202 (what HTTP alone allows on this machine, with nothing behind it); `service`
 * posts the corpus to an API-only process with the workers in --workers others, then posts
 * it again unchanged (the re-post rate); `single` does the same against one process running
 * both (ROLE=all, the default deployment); `ceiling1`/`ceiling2` are the plain write loop;
 * `model` runs the local model alone on the chunk texts the service embeds (up to --model-texts
 * of them) at several run batches and thread counts: compare its best with a service run
 * given `--env EMBEDDING_PROVIDER=local`.
 *
 * --workers 0 measures the accept path alone (POSTs only, nothing consumes the queue).
 * The backfill phase posts the corpus with `POST /v1/documents/batch` in backfill mode
 * (--backfill-batch documents a request, 4 requests in flight) and ends when the namespace's
 * index is built; it, the service and the ceiling phases print recall@10 of their HNSW index
 * against an exact ranking, over --recall-queries queries.
 * --env passes extra variables to the service processes (e.g. --env EMBEDDING_BATCH_SIZE=64).
 * Needs Postgres with pgvector and Redis as the service does (DATABASE_URL's host/port/user
 * and REDIS_URL are honoured; the database name is the bench's own).
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { toSql } from 'pgvector';
import { loadConfig } from '../src/config/app-config';
import { HashEmbeddingProvider } from '../src/embedding/hash-embedding.provider';
import { BenchDbTarget, checkDimension, databaseUrl, ensureBenchDatabase, resetTables } from './support/bench-db';
import { writeCeiling } from './support/ceiling-writer';
import { PipelineConfig, chunkingFor } from '../src/documents/pipeline';
import { LocalEmbeddingProvider } from '../src/embedding/local/local-embedding.provider';
import { draftChunks } from '../src/ingest/chunking/chunk-drafts';
import { SPLITTER_VERSION } from '../src/ingest/chunking/text-splitter';
import { ChildRegistry, ServiceProcess, freePort, sleep, waitReady } from './support/child-processes';
import { BenchDocument, generateCorpus } from './support/corpus';
import { intFlag, runProcessBench } from './support/bench-main';
import { CpuSnapshot, DatabaseCpuSampler, cpuReport, cpuSnapshot, loadAverage } from './support/cpu-usage';

const DIMENSION = 384;
const NAMESPACE = 'bench';
const PHASES = ['queueadd', 'httpfloor', 'model', 'service', 'single', 'ceiling1', 'ceiling2', 'backfill'] as const;
/** Backfill requests in flight at once. */
const BACKFILL_IN_FLIGHT = 4;
/** Documents per request when the bench re-posts the corpus through the batch endpoint. */
const REPOST_BATCH = 100;
const REPOST_PASSES = 3;
type Phase = (typeof PHASES)[number];

interface Options {
  docs: number;
  size: number;
  seed: number;
  workers: number;
  concurrency: number;
  inFlight: number;
  pool: number | undefined;
  batch: number;
  timeoutSeconds: number;
  phases: Phase[];
  db: string;
  prefix: string;
  extraEnv: Record<string, string>;
  modelTexts: number;
  backfillBatch: number;
  recallQueries: number;
}

/** One measured run: wall time from first write to last document done. */
interface Measured {
  label: string;
  documents: number;
  chunks: number;
  seconds: number;
  failed: number;
  /** CPU seconds of the bench database's Postgres processes during the run. */
  pgCpuSeconds: number;
  /** The POSTs of a service run: accepted per second and latency percentiles. */
  accept?: { rate: number; p50: number; p99: number };
  /** The second, unchanged posting of the corpus: documents per second and how many came back deduplicated. */
  repost?: { rate: number; deduplicated: number };
  /** The same, through `POST /v1/documents/batch` in batches of REPOST_BATCH documents. */
  repostBatch?: { rate: number; deduplicated: number };
  /** Mean recall@10 of the HNSW index against an exact ranking, where measured. */
  recall?: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    docs: 2000,
    size: 10000,
    seed: 42,
    workers: 2,
    concurrency: 4,
    inFlight: 16,
    pool: undefined,
    batch: 20,
    timeoutSeconds: 1800,
    phases: [...PHASES],
    db: 'ingest_bench',
    prefix: 'ingest-bench',
    extraEnv: {},
    modelTexts: 400,
    backfillBatch: 100,
    recallQueries: 100,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const v = argv[i + 1];
    i++;
    switch (flag) {
      case '--docs': o.docs = intFlag(flag, v, 1); break;
      case '--size': o.size = intFlag(flag, v, 100); break;
      case '--seed': o.seed = intFlag(flag, v, 0); break;
      case '--workers': o.workers = intFlag(flag, v, 0); break;
      case '--concurrency': o.concurrency = intFlag(flag, v, 1); break;
      case '--in-flight': o.inFlight = intFlag(flag, v, 1); break;
      case '--pool': o.pool = intFlag(flag, v, 1); break;
      case '--batch': o.batch = intFlag(flag, v, 1); break;
      case '--timeout': o.timeoutSeconds = intFlag(flag, v, 1); break;
      case '--db': o.db = String(v); break;
      case '--model-texts': o.modelTexts = intFlag(flag, v, 1); break;
      case '--backfill-batch': o.backfillBatch = intFlag(flag, v, 1); break;
      case '--recall-queries': o.recallQueries = intFlag(flag, v, 1); break;
      case '--prefix': o.prefix = String(v); break;
      case '--phases': {
        const list = String(v).split(',').filter(Boolean);
        const bad = list.filter((p) => !(PHASES as readonly string[]).includes(p));
        if (bad.length > 0) throw new Error(`--phases: unknown ${bad.join(', ')} (known: ${PHASES.join(', ')})`);
        o.phases = list as Phase[];
        break;
      }
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

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function ms(x: number): string {
  return `${x.toFixed(x < 10 ? 1 : 0)} ms`;
}

/** The corpus as `POST /v1/documents` bodies in the bench's namespace. */
function postBodies(corpus: BenchDocument[]): string[] {
  return corpus.map((d) => JSON.stringify({ ...d, namespace: NAMESPACE }));
}

/** Where the service and the ceiling write: the bench's own database and queue prefix. */
function benchTarget(o: Options): BenchDbTarget {
  const base = loadConfig({ ...process.env, EMBEDDING_PROVIDER: 'hash' }).postgres;
  return { host: base.host, port: base.port, user: base.user, database: o.db };
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

class Bench {
  private readonly children = new ChildRegistry();
  private readonly logDir = mkdtempSync(path.join(tmpdir(), 'ingest-bench-'));
  private readonly redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  private readonly target: BenchDbTarget;
  private db: Client | undefined;
  private cleaned = false;

  constructor(private readonly o: Options) {
    this.target = benchTarget(o);
  }

  async run(corpus: BenchDocument[]): Promise<void> {
    const o = this.o;
    console.log(`database ${this.target.database} on ${this.target.host}:${this.target.port}, queue prefix ${o.prefix}, logs in ${this.logDir}`);
    await ensureBenchDatabase(this.target, process.env);
    this.db = new Client({ connectionString: databaseUrl(this.target) });
    await this.db.connect();
    await checkDimension(this.db, DIMENSION);

    const results = new Map<Phase, Measured>();
    for (const phase of o.phases) {
      await resetTables(this.db);
      console.log(`\n== ${phase}  (load average ${loadAverage()})`);
      results.set(phase, await this.runPhase(phase, corpus));
    }
    this.summary(results);
  }

  private runPhase(phase: Phase, corpus: BenchDocument[]): Promise<Measured> {
    switch (phase) {
      case 'queueadd': return this.queueAdd(corpus.length);
      case 'httpfloor': return this.httpFloor(corpus);
      case 'model': return this.modelAlone(corpus);
      case 'service': return this.service(corpus, false);
      case 'single': return this.service(corpus, true);
      case 'ceiling1': return this.ceiling(corpus, 1);
      case 'ceiling2': return this.ceiling(corpus, 2);
      case 'backfill': return this.backfill(corpus);
    }
  }

  /** The local model alone on the service's chunk texts: the best chunks/s over run batches and thread counts. */
  private async modelAlone(corpus: BenchDocument[]): Promise<Measured> {
    const config = loadConfig({ ...process.env, EMBEDDING_PROVIDER: 'local', ...this.o.extraEnv });
    const pipeline: PipelineConfig = { ...chunkingFor(config.chunking, undefined), contextual: config.chunking.contextual, splitter: SPLITTER_VERSION };
    const texts: string[] = [];
    for (const d of corpus) {
      if (texts.length >= this.o.modelTexts) break;
      texts.push(...draftChunks({ title: d.title, metadata: d.metadata, pipeline }, d.content).map((c) => c.textToEmbed));
    }
    texts.length = Math.min(texts.length, this.o.modelTexts);
    let best: Measured | undefined;
    for (const threads of [1, 2]) {
      for (const maxBatch of [8, 32]) {
        const provider = await LocalEmbeddingProvider.create({ threads, maxBatch, quantize: config.embedding.quantize });
        try {
          await provider.embed(texts.slice(0, 8)); // warm-up
          const t0 = performance.now();
          // In calls of the service's EMBEDDING_BATCH_SIZE, as the service makes them.
          for (let i = 0; i < texts.length; i += config.embedding.batchSize) await provider.embed(texts.slice(i, i + config.embedding.batchSize));
          const seconds = (performance.now() - t0) / 1000;
          console.log(`  ${provider.modelId} threads ${threads} run batch ${String(maxBatch).padStart(2)}: ${(texts.length / seconds).toFixed(1)} chunks/s`);
          if (!best || texts.length / seconds > best.chunks / best.seconds) {
            best = { label: `model alone (t${threads} b${maxBatch})`, documents: 0, chunks: texts.length, seconds, failed: 0, pgCpuSeconds: 0 };
          }
        } finally {
          await provider.close();
        }
      }
    }
    return best as Measured;
  }

  /** Bare BullMQ `add` calls (ids-only payload, the service's job options) from --in-flight concurrent callers. */
  private async queueAdd(jobs: number): Promise<Measured> {
    const prefix = `${this.o.prefix}-raw`;
    await deleteQueueKeys(this.redisUrl, prefix);
    const url = new URL(this.redisUrl);
    const queue = new Queue('ingest', { prefix, connection: { host: url.hostname, port: Number(url.port || 6379) } });
    await queue.waitUntilReady();
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: Math.min(this.o.inFlight, jobs) }, async () => {
        while (next < jobs) {
          const i = next++;
          await queue.add('ingest-document', { documentId: randomUUID(), version: 1 }, { jobId: `bench-${i}`, attempts: 5, removeOnComplete: { age: 3600, count: 10000 } });
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    await queue.close();
    await deleteQueueKeys(this.redisUrl, prefix);
    console.log(`  ${jobs} jobs added in ${seconds.toFixed(2)} s = ${(jobs / seconds).toFixed(0)} adds/s with ${this.o.inFlight} callers`);
    return { label: `BullMQ add (${this.o.inFlight} callers)`, documents: jobs, chunks: 0, seconds, failed: 0, pgCpuSeconds: 0 };
  }

  /** The corpus posted to a bare `node:http` server in a process of its own: the accept path's floor. */
  private async httpFloor(corpus: BenchDocument[]): Promise<Measured> {
    const port = await freePort();
    const server = this.children.start('bare-http', path.join(__dirname, 'support/bare-http-server.js'), { ...process.env, PORT: String(port) }, port, path.join(this.logDir, 'bare-http.log'));
    await waitReady(server, '/health/ready', 10000);
    const bodies = postBodies(corpus);
    const cpu0 = cpuSnapshot([{ name: server.name, pid: server.child.pid }]);
    const { seconds, latencies, errors } = await this.postAll(server.url, bodies);
    const cpu1 = cpuSnapshot([{ name: server.name, pid: server.child.pid }]);
    console.log(`  ${latencies.length} POSTs answered in ${seconds.toFixed(2)} s = ${(latencies.length / seconds).toFixed(0)}/s with ${this.o.inFlight} in flight; latency p50 ${ms(percentile(latencies, 50))}, p99 ${ms(percentile(latencies, 99))}`);
    console.log('  CPU during the phase:');
    for (const line of cpuReport(cpu0, cpu1, seconds)) console.log(line);
    await this.children.stopAll();
    const accept = { rate: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
    return { label: 'bare node:http server', documents: latencies.length, chunks: 0, seconds, failed: errors.length, pgCpuSeconds: 0, accept };
  }

  /** POSTs every body with --in-flight concurrent clients; the latencies of the accepted ones and the answers. */
  private async postAll(api: string, bodies: string[]): Promise<{ seconds: number; latencies: number[]; errors: string[]; statuses: number[] }> {
    const latencies: number[] = [];
    const errors: string[] = [];
    const statuses: number[] = [];
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(this.o.inFlight, bodies.length) }, async () => {
        while (next < bodies.length) {
          const body = bodies[next++];
          const start = performance.now();
          try {
            const res = await fetch(`${api}/v1/documents`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
            const text = await res.text();
            statuses.push(res.status);
            if (res.status !== 202 && res.status !== 200) errors.push(`HTTP ${res.status}: ${text.slice(0, 200)}`);
            else latencies.push(performance.now() - start);
          } catch (err) {
            errors.push(String(err));
          }
        }
      }),
    );
    latencies.sort((a, b) => a - b);
    return { seconds: (performance.now() - t0) / 1000, latencies, errors, statuses };
  }

  /**
   * Posts `docs` through the batch endpoint, REPOST_BATCH per request, --in-flight requests at once: documents per second and
   * how many of `docs` came back deduplicated (per pass).
   */
  private async postBatches(api: string, docs: object[]): Promise<{ rate: number; deduplicated: number; errors: string[] }> {
    // REPOST_PASSES passes over the corpus, so that a small corpus still makes enough requests to time.
    const batches: string[] = [];
    for (let pass = 0; pass < REPOST_PASSES; pass++) {
      for (let i = 0; i < docs.length; i += REPOST_BATCH) batches.push(JSON.stringify({ documents: docs.slice(i, i + REPOST_BATCH) }));
    }
    const errors: string[] = [];
    let deduplicated = 0;
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: Math.min(this.o.inFlight, batches.length) }, async () => {
        while (next < batches.length) {
          const body = batches[next++];
          try {
            const res = await fetch(`${api}/v1/documents/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
            const answer = (await res.json()) as { results?: Array<{ status: string }> };
            if (res.status !== 200) errors.push(`HTTP ${res.status}: ${JSON.stringify(answer).slice(0, 200)}`);
            deduplicated += (answer.results ?? []).filter((r) => r.status === 'deduplicated').length;
          } catch (err) {
            errors.push(String(err));
          }
        }
      }),
    );
    return { rate: (REPOST_PASSES * docs.length) / ((performance.now() - t0) / 1000), deduplicated: deduplicated / REPOST_PASSES, errors };
  }

  /** The API and --workers worker processes (or one process running both) on the bench database, once each answers ready. */
  private async startService(what: string, single = false): Promise<ServiceProcess[]> {
    const o = this.o;
    await deleteQueueKeys(this.redisUrl, o.prefix);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: databaseUrl(this.target),
      REDIS_URL: this.redisUrl,
      QUEUE_PREFIX: o.prefix,
      EMBEDDING_PROVIDER: 'hash',
      EMBEDDING_DIMENSION: String(DIMENSION),
      WORKER_CONCURRENCY: String(o.concurrency),
      // A benchmark measures the service, not its per-caller budgets.
      RATE_LIMIT_WRITE_PER_MIN: '0',
      RATE_LIMIT_SEARCH_PER_MIN: '0',
      ...(o.pool ? { PG_POOL_SIZE: String(o.pool) } : {}),
      ...o.extraEnv,
    };
    const apiPort = await freePort();
    const procs: ServiceProcess[] = [
      this.children.start(single ? 'api+worker' : 'api', path.join(__dirname, '../src/main.js'), { ...env, ROLE: single ? 'all' : 'api', PORT: String(apiPort) }, apiPort, path.join(this.logDir, 'api.log')),
    ];
    for (let w = 1; w <= (single ? 0 : o.workers); w++) {
      const port = await freePort();
      procs.push(
        this.children.start(`worker${w}`, path.join(__dirname, '../src/worker.js'), { ...env, ROLE: 'worker', WORKER_PORT: String(port) }, port, path.join(this.logDir, `worker${w}.log`)),
      );
    }
    await Promise.all(procs.map((p) => waitReady(p, '/health/ready', 60000)));
    const extra = Object.entries(o.extraEnv).map(([k, v]) => ` ${k}=${v}`).join('');
    console.log(`  ${single ? 'one process (ROLE=all)' : `api :${apiPort} + ${o.workers} worker(s)`}, WORKER_CONCURRENCY=${o.concurrency}, PG_POOL_SIZE=${o.pool ?? 'default'}${extra}; ${what}`);
    return procs;
  }


  /**
   * The real service as child processes, documents POSTed over HTTP: an API-only process and
   * --workers worker processes, or (`single`) one process running both.
   */
  private async service(corpus: BenchDocument[], single: boolean): Promise<Measured> {
    const o = this.o;
    const db = this.db as Client;
    const procs = await this.startService(`posting ${corpus.length} docs, ${o.inFlight} in flight`, single);

    const bodies = postBodies(corpus);
    const cpu0 = cpuSnapshot(procs.map((p) => ({ name: p.name.replace(/\d+$/, 's'), pid: p.child.pid })));
    const pgCpu = new DatabaseCpuSampler(this.target.database);
    pgCpu.start();
    const t0 = performance.now();
    const api = procs[0].url;
    const { seconds: postSeconds, latencies, errors } = await this.postAll(api, bodies);
    const accept = { rate: latencies.length / postSeconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
    console.log(
      `  POST: ${latencies.length} accepted in ${postSeconds.toFixed(1)} s = ${(latencies.length / postSeconds).toFixed(1)} docs/s accept rate; ` +
        `latency p50 ${ms(percentile(latencies, 50))}, p99 ${ms(percentile(latencies, 99))}, max ${ms(latencies[latencies.length - 1] ?? NaN)}`,
    );
    if (errors.length > 0) console.log(`  ${errors.length} POSTs failed, first: ${errors[0]}`);

    if (o.workers === 0) {
      // Accept path alone: nothing consumes the queue, so there is no end to end figure.
      const cpu1 = cpuSnapshot(procs.map((p) => ({ name: p.name, pid: p.child.pid })));
      const pgSeconds = pgCpu.stop();
      this.printCpu(cpu0, cpu1, postSeconds, pgSeconds, 0);
      await this.children.stopAll();
      await deleteQueueKeys(this.redisUrl, o.prefix);
      return { label: 'accept only (0 workers)', documents: latencies.length, chunks: 0, seconds: postSeconds, failed: errors.length, pgCpuSeconds: pgSeconds, accept };
    }
    const expected = latencies.length;
    let lastLog = performance.now();
    let counts = { ready: 0, failed: 0, processing: 0, queued: 0 };
    for (;;) {
      const r = await db.query<{ status: string; n: string }>(`SELECT status, count(*) AS n FROM documents GROUP BY status`);
      counts = { ready: 0, failed: 0, processing: 0, queued: 0 };
      for (const row of r.rows) counts[row.status as keyof typeof counts] = Number(row.n);
      if (counts.ready + counts.failed >= expected) break;
      if (performance.now() - lastLog > 10000) {
        lastLog = performance.now();
        console.log(`  ${((lastLog - t0) / 1000).toFixed(0)} s: ready ${counts.ready}, processing ${counts.processing}, queued ${counts.queued}, failed ${counts.failed}`);
      }
      await sleep(100);
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu1 = cpuSnapshot(procs.map((p) => ({ name: p.name.replace(/\d+$/, 's'), pid: p.child.pid })));
    const pgSeconds = pgCpu.stop();
    const chunks = await this.countChunks();
    await this.describeTimeline(seconds, single ? this.o.concurrency : this.o.workers * this.o.concurrency);
    this.printCpu(cpu0, cpu1, seconds, pgSeconds, chunks);
    console.log(`  end to end: ${counts.ready} ready, ${counts.failed} failed, ${chunks} chunks in ${seconds.toFixed(1)} s`);
    if (counts.failed > 0) {
      const f = await db.query<{ last_error: string }>(`SELECT last_error FROM documents WHERE status = 'failed' LIMIT 1`);
      console.log(`  first failure: ${f.rows[0]?.last_error}`);
    }
    // The same corpus again, unchanged: every document should come back deduplicated, nothing queued.
    const again = await this.postAll(api, bodies);
    const repost = { rate: again.latencies.length / again.seconds, deduplicated: again.statuses.filter((x) => x === 200).length };
    console.log(
      `  re-POST unchanged: ${again.latencies.length} answered in ${again.seconds.toFixed(2)} s = ${repost.rate.toFixed(0)} docs/s, ` +
        `${repost.deduplicated} deduplicated; latency p50 ${ms(percentile(again.latencies, 50))}, p99 ${ms(percentile(again.latencies, 99))}`,
    );
    const viaBatch = await this.postBatches(api, corpus.map((d) => ({ ...d, namespace: NAMESPACE })));
    const repostBatch = { rate: viaBatch.rate, deduplicated: viaBatch.deduplicated };
    console.log(`  re-POST unchanged in batches of ${REPOST_BATCH}: ${repostBatch.rate.toFixed(0)} docs/s, ${repostBatch.deduplicated} deduplicated`);
    if (viaBatch.errors.length > 0) console.log(`  ${viaBatch.errors.length} batches failed, first: ${viaBatch.errors[0]}`);
    const recall = await this.recallAt10(corpus, false);
    await this.children.stopAll();
    await deleteQueueKeys(this.redisUrl, o.prefix);
    return {
      label: single ? `single process (c${o.concurrency})` : `service (${o.workers}w x c${o.concurrency})`,
      documents: counts.ready,
      chunks,
      seconds,
      failed: counts.failed + errors.length,
      pgCpuSeconds: pgSeconds,
      accept,
      repost,
      repostBatch,
      recall,
    };
  }

  /**
   * Backfill phase: the service as in phase A, the corpus posted in backfill batches; the
   * wall time runs until the namespace's own HNSW index is built.
   */
  private async backfill(corpus: BenchDocument[]): Promise<Measured> {
    const o = this.o;
    const procs = await this.startService(`posting ${corpus.length} docs in backfill batches of ${o.backfillBatch}, ${BACKFILL_IN_FLIGHT} in flight`);
    const api = procs[0].url;
    const batches: string[] = [];
    for (let i = 0; i < corpus.length; i += o.backfillBatch) {
      const documents = corpus.slice(i, i + o.backfillBatch).map((d) => ({ ...d, namespace: NAMESPACE }));
      batches.push(JSON.stringify({ mode: 'backfill', documents }));
    }
    const errors: string[] = [];
    let accepted = 0;
    const cpu0 = cpuSnapshot(procs.map((p) => ({ name: p.name.replace(/\d+$/, 's'), pid: p.child.pid })));
    const pgCpu = new DatabaseCpuSampler(this.target.database);
    pgCpu.start();
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(BACKFILL_IN_FLIGHT, batches.length) }, async () => {
        while (next < batches.length) {
          const body = batches[next++];
          const res = await fetch(`${api}/v1/documents/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          const text = await res.text();
          if (res.status !== 200) {
            errors.push(`HTTP ${res.status}: ${text.slice(0, 200)}`);
            continue;
          }
          const results = (JSON.parse(text) as { results: Array<{ status: string; error?: string }> }).results;
          accepted += results.filter((r) => r.status === 'accepted').length;
          for (const r of results) if (r.status === 'rejected') errors.push(r.error ?? 'rejected');
        }
      }),
    );
    const postSeconds = (performance.now() - t0) / 1000;
    console.log(`  POST batch: ${accepted} accepted in ${postSeconds.toFixed(1)} s = ${(accepted / postSeconds).toFixed(1)} docs/s accept rate`);
    if (errors.length > 0) console.log(`  ${errors.length} documents or batches failed, first: ${errors[0]}`);

    interface Status {
      state: string;
      done: boolean;
      documents: { queued: number; processing: number; ready: number; failed: number };
      index: { buildMs: number | null; rowsIndexed: number | null; maintenanceWorkMem: string | null; buildStartedAt: string | null } | null;
    }
    let status: Status | undefined;
    let documentsSettledAt: number | undefined;
    let lastLog = performance.now();
    for (;;) {
      status = (await (await fetch(`${api}/v1/namespaces/${NAMESPACE}/backfill`)).json()) as Status;
      const d = status.documents;
      if (documentsSettledAt === undefined && d.queued + d.processing === 0 && d.ready + d.failed >= accepted) documentsSettledAt = performance.now();
      if (status.done) break;
      if (performance.now() - lastLog > 10000) {
        lastLog = performance.now();
        console.log(`  ${((lastLog - t0) / 1000).toFixed(0)} s: ${status.state}, ready ${d.ready}, processing ${d.processing}, queued ${d.queued}, failed ${d.failed}`);
      }
      await sleep(100);
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu1 = cpuSnapshot(procs.map((p) => ({ name: p.name.replace(/\d+$/, 's'), pid: p.child.pid })));
    const pgSeconds = pgCpu.stop();
    const chunks = await this.countChunks();
    this.printCpu(cpu0, cpu1, seconds, pgSeconds, chunks);
    const written = ((documentsSettledAt ?? performance.now()) - t0) / 1000;
    const index = status.index;
    console.log(
      `  documents written (all ready) after ${written.toFixed(1)} s = ${(status.documents.ready / written).toFixed(1)} docs/s; ` +
        `index over ${index?.rowsIndexed} chunks built in ${((index?.buildMs ?? 0) / 1000).toFixed(1)} s with maintenance_work_mem ${index?.maintenanceWorkMem}`,
    );
    console.log(`  end to end (index built): ${status.documents.ready} ready, ${status.documents.failed} failed, ${chunks} chunks in ${seconds.toFixed(1)} s`);
    const recall = await this.recallAt10(corpus, true);
    await this.children.stopAll();
    await deleteQueueKeys(this.redisUrl, o.prefix);
    return {
      label: `backfill (${o.workers}w x c${o.concurrency})`,
      documents: status.documents.ready,
      chunks,
      seconds,
      failed: status.documents.failed + errors.length,
      pgCpuSeconds: pgSeconds,
      recall,
    };
  }

  /**
   * Mean recall@10 of the namespace's vector search through its HNSW index (the shared
   * one, or its own after a backfill) against an exact ranking, with the service's
   * search settings (ef_search 100, iterative scan), over queries of a few words of the corpus.
   */
  private async recallAt10(corpus: BenchDocument[], ownIndex: boolean): Promise<number> {
    const db = this.db as Client;
    const embedder = new HashEmbeddingProvider(DIMENSION);
    const queries = Array.from({ length: this.o.recallQueries }, (_, i) => {
      const words = corpus[(i * 7919) % corpus.length].content.split(/\s+/);
      const from = (i * 104729) % Math.max(1, words.length - 8);
      return words.slice(from, from + 8).join(' ');
    });
    const vectors = await embedder.embed(queries);
    const where = `namespace = $1 AND ${ownIndex ? '' : 'NOT '}own_index`;
    let found = 0;
    await db.query('BEGIN');
    try {
      await db.query('SET LOCAL hnsw.ef_search = 100');
      await db.query('SET LOCAL hnsw.iterative_scan = relaxed_order');
      for (const v of vectors) {
        const params = [NAMESPACE, toSql(v)];
        const indexed = await db.query<{ id: string }>(`SELECT id FROM chunks WHERE ${where} ORDER BY embedding <=> $2::vector LIMIT 10`, params);
        const exact = await db.query<{ id: string }>(`SELECT id FROM chunks WHERE ${where} ORDER BY (embedding <=> $2::vector) + 0 LIMIT 10`, params);
        const truth = new Set(exact.rows.map((r) => r.id));
        found += indexed.rows.filter((r) => truth.has(r.id)).length;
      }
    } finally {
      await db.query('COMMIT');
    }
    const recall = found / (10 * vectors.length);
    console.log(`  recall@10 of the ${ownIndex ? "namespace's own" : 'shared'} HNSW index against exact search: ${recall.toFixed(3)} over ${vectors.length} queries`);
    return recall;
  }

  /**
   * Where a document's time went in the service, from the timestamps the service records:
   * documents.created_at (API transaction start), started_at (claim), completed_at (start
   * of the chunk-writing transaction), and, where the attempt history exists, the job's
   * start and the attempt's record after the write committed.
   */
  private async describeTimeline(wallSeconds: number, slots: number): Promise<void> {
    const db = this.db as Client;
    const hasAttempts = (await db.query(`SELECT to_regclass('document_attempts') IS NOT NULL AS ok`)).rows[0].ok === true;
    const r = await db.query<Record<string, string | null>>(
      hasAttempts
        ? `SELECT extract(epoch FROM a.started_at - d.created_at) * 1000 AS "queued (API tx start -> job start)",
                  extract(epoch FROM d.started_at - a.started_at) * 1000 AS "claim",
                  extract(epoch FROM d.completed_at - d.started_at) * 1000 AS "load+split+embed",
                  extract(epoch FROM a.finished_at - d.completed_at) * 1000 AS "write tx + attempt record",
                  extract(epoch FROM a.finished_at - a.started_at) * 1000 AS "job total",
                  d.attempts
             FROM documents d
             JOIN LATERAL (SELECT * FROM document_attempts x WHERE x.document_id = d.id AND x.outcome = 'ready'
                            ORDER BY x.id DESC LIMIT 1) a ON true
            WHERE d.status = 'ready'`
        : `SELECT extract(epoch FROM d.started_at - d.created_at) * 1000 AS "queued (API tx start -> claim)",
                  extract(epoch FROM d.completed_at - d.started_at) * 1000 AS "claim -> write tx start",
                  d.attempts
             FROM documents d WHERE d.status = 'ready'`,
    );
    const columns = r.fields.map((f) => f.name).filter((n) => n !== 'attempts');
    console.log(`  per document (ms, from the service's own timestamps):`);
    for (const c of columns) {
      const xs = r.rows.map((row) => Number(row[c])).sort((a, b) => a - b);
      const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
      console.log(`    ${c.padEnd(36)} mean ${mean.toFixed(1).padStart(7)}  p50 ${percentile(xs, 50).toFixed(1).padStart(7)}  p99 ${percentile(xs, 99).toFixed(1).padStart(7)}`);
      if (c === 'job total') {
        console.log(`    mean jobs in progress ${((mean * xs.length) / 1000 / wallSeconds).toFixed(1)} (of ${slots} slots)`);
      }
    }
    const retried = r.rows.filter((x) => Number(x.attempts) > 1).length;
    if (retried > 0) console.log(`    ${retried} documents needed more than one attempt`);
  }

  /** Phase B: split + embed + multi-row INSERTs from this process on `connections` connections. */
  private async ceiling(corpus: BenchDocument[], connections: number): Promise<Measured> {
    const config = loadConfig({ ...process.env, EMBEDDING_PROVIDER: 'hash', EMBEDDING_DIMENSION: String(DIMENSION) });
    const embedder = new HashEmbeddingProvider(DIMENSION);
    // Interleaved slices, so both connections see the same mix of documents.
    const slices = Array.from({ length: connections }, (_, c) => corpus.filter((_, i) => i % connections === c));
    const cpu0 = cpuSnapshot([]);
    const pgCpu = new DatabaseCpuSampler(this.target.database);
    pgCpu.start();
    const t0 = performance.now();
    const parts = await Promise.all(
      slices.map((docs) =>
        writeCeiling(docs, {
          connectionString: databaseUrl(this.target),
          namespace: NAMESPACE,
          chunkSize: config.chunking.size,
          chunkOverlap: config.chunking.overlap,
          docsPerTransaction: this.o.batch,
          embedder,
        }),
      ),
    );
    const seconds = (performance.now() - t0) / 1000;
    const documents = parts.reduce((s, p) => s + p.documents, 0);
    const chunks = parts.reduce((s, p) => s + p.chunks, 0);
    const pgSeconds = pgCpu.stop();
    this.printCpu(cpu0, cpuSnapshot([]), seconds, pgSeconds, chunks);
    const prepare = parts.reduce((s, p) => s + p.prepareSeconds, 0);
    const write = parts.reduce((s, p) => s + p.writeSeconds, 0);
    console.log(
      `  ${documents} docs, ${chunks} chunks in ${seconds.toFixed(1)} s on ${connections} connection(s), ${this.o.batch} docs per transaction ` +
        `(client split+embed ${prepare.toFixed(1)} s, waiting on Postgres ${write.toFixed(1)} s, summed over connections)`,
    );
    const recall = await this.recallAt10(corpus, false);
    return { label: `ceiling (${connections} conn)`, documents, chunks, seconds, failed: 0, pgCpuSeconds: pgSeconds, recall };
  }

  private async countChunks(): Promise<number> {
    const r = await (this.db as Client).query<{ n: string }>('SELECT count(*) AS n FROM chunks');
    return Number(r.rows[0].n);
  }

  private printCpu(before: CpuSnapshot, after: CpuSnapshot, seconds: number, benchDbSeconds: number, chunks: number): void {
    console.log('  CPU during the phase:');
    for (const line of cpuReport(before, after, seconds)) console.log(line);
    const perChunk = chunks > 0 ? `, ${((benchDbSeconds * 1000) / chunks).toFixed(2)} ms per chunk` : '';
    console.log(
      `    of which postgres on ${this.target.database}: ${benchDbSeconds.toFixed(1)} s CPU, ${(benchDbSeconds / seconds).toFixed(2)} cores${perChunk}`,
    );
  }

  private summary(results: Map<Phase, Measured>): void {
    const service = results.get('service');
    const c1 = results.get('ceiling1');
    const c2 = results.get('ceiling2');
    const rate = (m: Measured, n: number): number => n / m.seconds;
    const ratio = (m: Measured, base: Measured | undefined): string =>
      base && m !== base && m.chunks > 0 ? `${((m.chunks / m.seconds) / (base.chunks / base.seconds)).toFixed(2)}x` : '';
    console.log(`\n== summary: ${this.o.docs} docs of ~${this.o.size} bytes, ${this.o.extraEnv.EMBEDDING_PROVIDER ?? 'hash'} embeddings (${DIMENSION} dims), HNSW index on chunks`);
    const header = ['run', 'docs', 'chunks', 'failed', 'wall s', 'docs/s', 'chunks/s', 'vs ceiling 1', 'vs ceiling 2', 'PG CPU ms/chunk', 'recall@10'];
    const rows = [...results.values()].map((m) => [
      m.label,
      String(m.documents),
      String(m.chunks),
      String(m.failed),
      m.seconds.toFixed(1),
      rate(m, m.documents).toFixed(1),
      rate(m, m.chunks).toFixed(0),
      ratio(m, c1),
      ratio(m, c2),
      m.chunks > 0 ? ((m.pgCpuSeconds * 1000) / m.chunks).toFixed(2) : '',
      m.recall === undefined ? '' : m.recall.toFixed(3),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const fmt = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
    console.log(fmt(header));
    console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    for (const r of rows) console.log(fmt(r));
    if ((service || results.has('backfill')) && (c1 || c2)) console.log('(ratios are of chunks/s: the run\'s rate over the ceiling\'s; backfill\'s wall time runs until its index is built)');
    const model = results.get('model');
    if (model) {
      for (const m of [results.get('service'), results.get('single')]) {
        if (m) console.log(`${m.label}: ${(m.chunks / m.seconds).toFixed(1)} chunks/s = ${((m.chunks / m.seconds) / (model.chunks / model.seconds)).toFixed(2)}x the ${model.label} (${(model.chunks / model.seconds).toFixed(1)} chunks/s)`);
      }
    }
    const adds = results.get('queueadd');
    const floor = results.get('httpfloor');
    for (const m of results.values()) {
      if (!m.accept) continue;
      const vsAdd = adds ? `, ${(m.accept.rate / (adds.documents / adds.seconds)).toFixed(3)}x the BullMQ add rate (${(adds.documents / adds.seconds).toFixed(0)}/s)` : '';
      const vsFloor = floor?.accept && m !== floor ? `, ${(m.accept.rate / floor.accept.rate).toFixed(3)}x the bare HTTP server's (${floor.accept.rate.toFixed(0)}/s)` : '';
      console.log(`${m.label}: POST accepted ${m.accept.rate.toFixed(1)} docs/s${vsAdd}${vsFloor}; latency p50 ${ms(m.accept.p50)}, p99 ${ms(m.accept.p99)}`);
      if (m.repost) {
        const first = m.documents / m.seconds;
        console.log(`${m.label}: re-POST of the unchanged corpus ${m.repost.rate.toFixed(0)} docs/s = ${(m.repost.rate / first).toFixed(1)}x its first ingest (${first.toFixed(1)} docs/s); ${m.repost.deduplicated} deduplicated`);
        if (m.repostBatch) {
          console.log(`${m.label}: the same in batches of ${REPOST_BATCH}: ${m.repostBatch.rate.toFixed(0)} docs/s = ${(m.repostBatch.rate / first).toFixed(1)}x its first ingest; ${m.repostBatch.deduplicated} deduplicated`);
        }
      }
    }
    console.log('(PG CPU ms/chunk: CPU of the Postgres processes on the bench database per chunk written; it does not depend on other load)');
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

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  // The migration sizes the vector column from the environment of the process that runs it.
  process.env.EMBEDDING_PROVIDER = 'hash';
  process.env.EMBEDDING_DIMENSION = String(DIMENSION);
  const bench = new Bench(o);
  console.log(`ingest bench: ${o.docs} docs of ~${o.size} bytes (seed ${o.seed}), phases ${o.phases.join(', ')}; load average at start ${loadAverage()}`);
  const t = performance.now();
  const corpus = generateCorpus(o.seed, o.docs, o.size);
  const bytes = corpus.reduce((s, d) => s + d.content.length, 0);
  console.log(`corpus: ${(bytes / 1e6).toFixed(1)} MB generated in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  await runProcessBench(bench, o.timeoutSeconds, () => bench.run(corpus));
}

void main();
