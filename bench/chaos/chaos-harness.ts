import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { splitText } from '../../src/ingest/chunking/text-splitter';
import { ChildRegistry, ServiceProcess, freePort, sleep, waitReady } from '../support/child-processes';
import { BenchDbTarget, databaseUrl, ensureBenchDatabase, resetTables } from '../support/bench-db';
import { PrivateRedis } from '../support/redis-server';

/** One document the driver posts, and what it should become. */
export interface ChaosDocument {
  content: string;
  /** Marked so that the faulty upstream rejects it for good. */
  poison: boolean;
}

export interface ChaosOptions {
  /** Folder of the compiled service (with src/main.js and src/worker.js). */
  distDir: string;
  db: BenchDbTarget;
  logDir: string;
  workers: number;
  /** Extra environment for every service process (provider, timings). */
  env: Record<string, string>;
  chunkSize: number;
  chunkOverlap: number;
}

/** The figures one scenario prints. */
export interface ChaosResult {
  scenario: string;
  accepted: number;
  ready: number;
  failed: number;
  expectedFailed: number;
  deadLetters: number;
  deadLetterJobs: number;
  lost: number;
  duplicateChunks: number;
  wrongChunkCount: number;
  recoverSeconds: number;
  totalSeconds: number;
}

/**
 * Runs the real service as separate processes (an API and N workers) against its own
 * Postgres database and a private Redis it may kill, drives documents through HTTP, and
 * checks the end state in Postgres: nothing lost, nothing duplicated, counts right.
 */
export class ChaosHarness {
  readonly redis = new PrivateRedis();
  private readonly children = new ChildRegistry();
  api?: ServiceProcess;
  readonly workers: Array<ServiceProcess | undefined> = [];
  private readonly accepted = new Map<string, ChaosDocument>();
  private db?: Client;
  private workerStarts = 0;
  private startedAt = Date.now();
  /** When the last injected fault ended (recovery is timed from here). */
  lastFaultAt = 0;
  /** Environment of the processes started from now on, over the options' (see `restartServices`). */
  private overrides: Record<string, string> = {};

  constructor(private readonly o: ChaosOptions) {
    mkdirSync(o.logDir, { recursive: true });
  }

  /** Fresh tables, a fresh Redis, an API and the workers, all ready. */
  async start(scenario: string): Promise<void> {
    this.startedAt = Date.now();
    await ensureBenchDatabase(this.o.db, { ...process.env, ...this.baseEnv() });
    this.db = new Client({ connectionString: databaseUrl(this.o.db) });
    await this.db.connect();
    await resetTables(this.db);
    await this.redis.start();
    await this.startServices(scenario, 'api');
  }

  /**
   * Stops the API and the workers (SIGTERM) and starts them again with `overrides` over
   * their environment, as a deployment rolls out a new configuration.
   */
  async restartServices(scenario: string, overrides: Record<string, string>): Promise<void> {
    await this.children.stopAll(15000);
    this.workers.length = 0;
    this.overrides = { ...overrides };
    await this.startServices(scenario, 'api-restarted');
  }

  private async startServices(scenario: string, apiLog: string): Promise<void> {
    const port = await freePort();
    this.api = this.children.start('api', join(this.o.distDir, 'src/main.js'), this.env({ ROLE: 'api', PORT: String(port) }), port, join(this.o.logDir, `${scenario}-${apiLog}.log`));
    await waitReady(this.api, '/health/ready', 60000);
    for (let i = 0; i < this.o.workers; i++) await this.startWorker(i, scenario);
  }

  async startWorker(i: number, scenario = 'chaos'): Promise<void> {
    const port = await freePort();
    const log = join(this.o.logDir, `${scenario}-worker${i}-${++this.workerStarts}.log`);
    const w = this.children.start(`worker${i}`, join(this.o.distDir, 'src/worker.js'), this.env({ WORKER_PORT: String(port) }), port, log);
    this.workers[i] = w;
    await waitReady(w, '/health/live', 60000);
  }

  /** SIGKILL: the worker dies holding its jobs' locks. */
  killWorker(i: number): void {
    this.lastFaultAt = Date.now();
    this.workers[i]?.child.kill('SIGKILL');
    this.workers[i] = undefined;
  }

  /**
   * SIGTERM to every worker. Resolves with the moment all of them had begun draining
   * (their readiness says so), and `exited` once they have all exited on their own.
   */
  async terminateWorkers(): Promise<{ drainingSince: Date; exited: Promise<void> }> {
    const alive = this.workers.filter((w): w is ServiceProcess => w !== undefined);
    const exited = Promise.all(alive.map((w) => new Promise<void>((resolve) => {
      if (w.child.exitCode !== null) resolve();
      else w.child.once('exit', () => resolve());
    }))).then(() => undefined);
    for (const w of alive) w.child.kill('SIGTERM');
    for (const w of alive) {
      while (w.child.exitCode === null) {
        const body = await fetch(`${w.url}/health/ready`).then((r) => r.text(), () => 'gone');
        if (body === 'gone' || body.includes('shutting down')) break;
        await sleep(5);
      }
    }
    const drainingSince = await this.dbNow();
    this.workers.length = 0;
    return { drainingSince, exited };
  }

  /**
   * Posts documents with `concurrency` requests in flight. A client whose request fails
   * (API restarting, database away) repeats it with the same Idempotency-Key, as a well
   * behaved client does; a document counts as accepted once the API answered 2xx.
   */
  async post(docs: ChaosDocument[], concurrency = 16, tag = 'doc'): Promise<void> {
    let next = 0;
    const one = async (): Promise<void> => {
      while (next < docs.length) {
        const i = next++;
        const doc = docs[i];
        const key = `${tag}-${i}-${this.startedAt}`;
        for (let attempt = 0; ; attempt++) {
          try {
            const res = await fetch(`${this.api!.url}/v1/documents`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', 'idempotency-key': key },
              body: JSON.stringify({ content: doc.content, chunking: { size: this.o.chunkSize, overlap: this.o.chunkOverlap } }),
              signal: AbortSignal.timeout(10000),
            });
            const body = (await res.json()) as { id?: string };
            if (res.status === 202 || res.status === 200) {
              this.accepted.set(body.id as string, doc);
              break;
            }
            if (res.status < 500) throw new Error(`POST rejected with ${res.status}: ${JSON.stringify(body)}`);
          } catch (err) {
            if (err instanceof Error && err.message.startsWith('POST rejected')) throw err;
            if (attempt > 200) throw new Error(`POST kept failing: ${String(err)}`);
          }
          await sleep(100);
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, one));
  }

  /** The database's clock, to compare with its timestamps. */
  async dbNow(): Promise<Date> {
    return (await this.db!.query<{ now: Date }>('SELECT clock_timestamp() AS now')).rows[0].now;
  }

  /** Documents whose processing started within [from, to). */
  async startedBetween(from: Date, to: Date): Promise<number> {
    const r = await this.db!.query<{ n: string }>(
      `SELECT count(*) AS n FROM document_attempts WHERE started_at >= $1 AND started_at < $2`,
      [from, to],
    );
    return Number(r.rows[0].n);
  }

  /** Counts of documents by status. */
  async statusCounts(): Promise<Record<string, number>> {
    const r = await this.db!.query<{ status: string; n: string }>(`SELECT status, count(*) AS n FROM documents GROUP BY status`);
    return Object.fromEntries(r.rows.map((row) => [row.status, Number(row.n)]));
  }

  /** Waits until no document is queued or processing; returns when that happened. */
  async waitSettled(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const c = await this.statusCounts();
        if ((c.queued ?? 0) + (c.processing ?? 0) === 0) return Date.now();
      } catch {
        await this.reconnectDb();
      }
      if (Date.now() > deadline) return Date.now();
      await sleep(250);
    }
  }

  /** The database connection of the harness itself, after a Postgres restart. */
  async reconnectDb(): Promise<void> {
    await this.db?.end().catch(() => undefined);
    for (let i = 0; i < 100; i++) {
      try {
        this.db = new Client({ connectionString: databaseUrl(this.o.db) });
        await this.db.connect();
        return;
      } catch {
        await sleep(200);
      }
    }
  }

  /** Checks the end state against what was accepted. */
  async verify(scenario: string, settledAt: number): Promise<ChaosResult> {
    const faultEndedAt = this.lastFaultAt || settledAt;
    const rows = await this.db!.query<{ id: string; status: string; chunk_count: number | null; actual: string }>(
      `SELECT d.id, d.status, d.chunk_count, (SELECT count(*) FROM chunks c WHERE c.document_id = d.id) AS actual FROM documents d`,
    );
    const byId = new Map(rows.rows.map((r) => [r.id, r]));
    let ready = 0;
    let failed = 0;
    let lost = 0;
    let wrong = 0;
    let expectedFailed = 0;
    for (const [id, doc] of this.accepted) {
      if (doc.poison) expectedFailed++;
      const row = byId.get(id);
      if (!row || (row.status !== 'ready' && row.status !== 'failed')) {
        lost++;
        continue;
      }
      if (row.status === 'failed') {
        failed++;
        continue;
      }
      ready++;
      const expected = splitText(doc.content, { size: this.o.chunkSize, overlap: this.o.chunkOverlap }).length;
      if (row.chunk_count !== expected || Number(row.actual) !== expected) wrong++;
    }
    const dup = await this.db!.query<{ n: string }>(
      `SELECT (count(*) - count(DISTINCT (document_id, chunk_index)))::text AS n FROM chunks`,
    );
    return {
      scenario,
      accepted: this.accepted.size,
      ready,
      failed,
      expectedFailed,
      deadLetters: await this.countDeadLetters(),
      deadLetterJobs: await this.countDeadLetterJobs(),
      lost,
      duplicateChunks: Number(dup.rows[0].n),
      wrongChunkCount: wrong,
      recoverSeconds: Math.max(0, (settledAt - faultEndedAt) / 1000),
      totalSeconds: (settledAt - this.startedAt) / 1000,
    };
  }

  private async countDeadLetters(): Promise<number> {
    let n = 0;
    let cursor: string | null = null;
    do {
      const qs: string = cursor ? `?limit=100&cursor=${cursor}` : '?limit=100';
      const page = (await (await fetch(`${this.api!.url}/v1/dead-letters${qs}`)).json()) as { items: unknown[]; nextCursor: string | null };
      n += page.items.length;
      cursor = page.nextCursor;
    } while (cursor);
    return n;
  }

  /** Dead letters held in Redis (`ingest-dlq`), once the reconciler has had a pass. */
  private async countDeadLetterJobs(): Promise<number> {
    const { Queue } = await import('bullmq');
    const q = new Queue('ingest-dlq', { connection: { host: '127.0.0.1', port: this.redis.port }, prefix: 'chaos' });
    try {
      return await q.getJobCountByTypes('waiting', 'paused', 'delayed', 'prioritized');
    } finally {
      await q.close();
    }
  }

  async stop(): Promise<void> {
    await this.children.stopAll(15000);
    await this.redis.kill();
    await this.db?.end().catch(() => undefined);
    this.accepted.clear();
    this.workers.length = 0;
    this.overrides = {};
  }

  /** Runs one query on the harness's own connection (for scenario-specific checks). */
  async query<T extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.db!.query<T>(sql, params)).rows;
  }

  get acceptedCount(): number {
    return this.accepted.size;
  }

  private baseEnv(): Record<string, string> {
    return {
      DATABASE_URL: databaseUrl(this.o.db),
      EMBEDDING_PROVIDER: 'hash',
      EMBEDDING_DIMENSION: '384',
      ...this.o.env,
    };
  }

  private env(extra: Record<string, string>): NodeJS.ProcessEnv {
    return {
      ...process.env,
      ...this.baseEnv(),
      REDIS_URL: this.redis.url,
      QUEUE_PREFIX: 'chaos',
      ...this.overrides,
      ...extra,
    };
  }
}

/** Seeded documents of about `size` characters; a `poisonRate` share is marked to fail for good. */
export function chaosCorpus(count: number, size: number, seed: number, poisonRate = 0): ChaosDocument[] {
  let s = seed >>> 0;
  const rand = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const words = ['queue', 'vector', 'index', 'worker', 'retry', 'chunk', 'lock', 'stall', 'commit', 'replica', 'cursor', 'shard'];
  return Array.from({ length: count }, (_, i) => {
    const poison = rand() < poisonRate;
    const parts: string[] = [`Document ${i} of seed ${seed}.${poison ? ' POISON-PILL.' : ''}`];
    let length = parts[0].length;
    while (length < size) {
      const sentence = Array.from({ length: 8 + Math.floor(rand() * 10) }, () => words[Math.floor(rand() * words.length)]).join(' ') + '.';
      parts.push(rand() < 0.2 ? `\n\n${sentence}` : ` ${sentence}`);
      length += sentence.length + 1;
    }
    return { content: parts.join(''), poison };
  });
}

/** One line of figures per scenario. */
export function formatResult(r: ChaosResult): string {
  return (
    `${r.scenario.padEnd(26)} accepted=${r.accepted} ready=${r.ready} failed=${r.failed} (expected ${r.expectedFailed}) ` +
    `deadLetters=${r.deadLetters}/${r.deadLetterJobs} lost=${r.lost} duplicateChunks=${r.duplicateChunks} ` +
    `wrongChunkCount=${r.wrongChunkCount} recover=${r.recoverSeconds.toFixed(1)}s total=${r.totalSeconds.toFixed(1)}s`
  );
}
