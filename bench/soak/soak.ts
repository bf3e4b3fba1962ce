import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import Redis from 'ioredis';
import { splitText } from '../../src/ingest/chunking/text-splitter';
import { ChaosHarness, ChaosOptions } from '../chaos/chaos-harness';
import { CHAOS_ENV } from '../chaos/chaos';
import { withFaultyUpstream } from '../chaos/faulty-upstream';
import { sleep } from '../support/child-processes';
import { SoakSample, growth, rssMb } from './soak-samples';

export type SoakFault = 'kill' | 'redis' | 'postgres' | 'upstream';

export interface SoakOptions {
  durationMs: number;
  /** Mean time between injected faults (each one picked at random from `faults`). */
  faultEveryMs: number;
  faults: SoakFault[];
  /** Requests per second of the mixed load (posts, updates, deletes, searches). */
  opsPerSecond: number;
  sampleEveryMs: number;
  docSize: number;
  chaos: ChaosOptions;
}

export interface SoakResult {
  seconds: number;
  ops: Record<string, number>;
  faults: Record<string, number>;
  documents: number;
  lost: number;
  wrongContent: number;
  wrongChunkCount: number;
  duplicateChunks: number;
  orphanChunks: number;
  deletedLeft: number;
  extraDocuments: number;
  failed: number;
  settleSeconds: number;
  samples: SoakSample[];
  /** Last-third over middle-third medians (see `growth`). */
  growth: Record<string, number>;
  maxPgConnections: number;
}

interface Tracked {
  id: string;
  content: string;
  deleted: boolean;
  busy: boolean;
}

const seeded = (seed: number): (() => number) => {
  let s = seed;
  return () => ((s = (Math.imul(s, 48271) >>> 0) % 2147483647) / 2147483647);
};
const WORDS = 'queue worker vector chunk embed index search shard replica lease marker drift audit deadline crash restart backup restore schema'.split(' ');

/**
 * A long run of the whole service (API and workers as processes) under a steady mixed
 * load with faults injected at random, sampling memory, connections and Redis; at the end
 * it checks that every document is what the client last asked for, and nothing grew.
 */
export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  if (o.faults.includes('upstream')) {
    return withFaultyUpstream((env) => soak({ ...o, chaos: { ...o.chaos, env: { ...o.chaos.env, ...env } } }), 0.05, 7);
  }
  return soak(o);
}

async function soak(o: SoakOptions): Promise<SoakResult> {
  const h = new ChaosHarness(o.chaos);
  const rand = seeded(11);
  const text = (n: number): string =>
    Array.from({ length: Math.ceil(o.docSize / 60) }, (_, i) => `${WORDS[(n + i) % WORDS.length]} ${Array.from({ length: 8 }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ')} ${n}.${i}`).join(' ')
      .slice(0, o.docSize);
  const docs = new Map<string, Tracked>();
  const ops: Record<string, number> = { post: 0, update: 0, delete: 0, search: 0, retried: 0 };
  const faults: Record<string, number> = {};
  const samples: SoakSample[] = [];
  let next = 0;
  const started = Date.now();
  const until = started + o.durationMs;
  const chunking = { size: o.chaos.chunkSize, overlap: o.chaos.chunkOverlap };
  try {
    await h.start('soak');
    const api = (): string => h.api!.url;
    /** Repeats a request the way a careful client does while the service restarts (same Idempotency-Key for posts). */
    const call = async (method: string, path: string, body?: unknown, key?: string): Promise<{ status: number; body: unknown }> => {
      for (let attempt = 0; ; attempt++) {
        try {
          const res = await fetch(`${api()}${path}`, {
            method,
            headers: { 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
            body: body === undefined ? undefined : JSON.stringify(body),
            signal: AbortSignal.timeout(15000),
          });
          const text = await res.text();
          if (res.status < 500) return { status: res.status, body: text ? JSON.parse(text) : undefined };
        } catch {
          // The API or a dependency restarting: try again.
        }
        ops.retried++;
        if (attempt > 300) throw new Error(`${method} ${path} kept failing`);
        await sleep(200);
      }
    };
    const post = async (externalId: string, content: string): Promise<string> => {
      const r = await call('POST', '/v1/documents', { content, externalId, namespace: 'soak', chunking }, `${externalId}-${createHash('sha256').update(content).digest('hex').slice(0, 16)}`);
      if (r.status !== 202 && r.status !== 200) throw new Error(`POST answered ${r.status}: ${JSON.stringify(r.body)}`);
      return (r.body as { id: string }).id;
    };
    const pick = (): [string, Tracked] | undefined => {
      const live = [...docs.entries()].filter(([, d]) => !d.deleted && !d.busy);
      return live.length === 0 ? undefined : live[Math.floor(rand() * live.length)];
    };
    const one = async (): Promise<void> => {
      const r = rand();
      const target = r < 0.5 ? undefined : pick();
      if (!target || r < 0.5) {
        const key = `soak-${next++}`;
        const content = text(next);
        const tracked: Tracked = { id: '', content, deleted: false, busy: true };
        docs.set(key, tracked);
        tracked.id = await post(key, content);
        tracked.busy = false;
        ops.post++;
      } else if (r < 0.7) {
        const [key, d] = target;
        d.busy = true;
        const content = text(next++ + 100000);
        await post(key, content);
        d.content = content;
        d.busy = false;
        ops.update++;
      } else if (r < 0.8) {
        const [, d] = target;
        d.busy = true;
        const res = await call('DELETE', `/v1/documents/${d.id}`);
        if (res.status !== 204 && res.status !== 404) throw new Error(`DELETE answered ${res.status}`);
        d.deleted = true;
        ops.delete++;
      } else {
        await call('POST', '/v1/search', { query: `${WORDS[Math.floor(rand() * WORDS.length)]} ${WORDS[Math.floor(rand() * WORDS.length)]}`, namespace: 'soak', topK: 5 });
        ops.search++;
      }
    };
    const load = (async () => {
      const gap = 1000 / o.opsPerSecond;
      const inFlight = new Set<Promise<void>>();
      while (Date.now() < until) {
        const p: Promise<void> = one().finally(() => inFlight.delete(p));
        inFlight.add(p);
        if (inFlight.size >= 8) await Promise.race(inFlight);
        await sleep(gap);
      }
      await Promise.all(inFlight);
    })();
    const chaos = (async () => {
      while (true) {
        await sleep(o.faultEveryMs * (0.5 + rand()));
        if (Date.now() >= until - o.faultEveryMs / 2) return;
        const kinds = o.faults.filter((f) => f !== 'upstream');
        if (kinds.length === 0) return;
        const fault = kinds[Math.floor(rand() * kinds.length)];
        faults[fault] = (faults[fault] ?? 0) + 1;
        if (fault === 'kill') {
          const victim = Math.floor(rand() * o.chaos.workers);
          h.killWorker(victim);
          await h.startWorker(victim, 'soak');
        } else if (fault === 'redis') {
          await h.redis.kill();
          await sleep(1000);
          await h.redis.start();
        } else {
          const [version, cluster] = execFileSync('pg_lsclusters', ['--no-header']).toString().trim().split(/\s+/);
          execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, cluster, 'restart', '-m', 'immediate'], { stdio: 'ignore' });
          await h.reconnectDb();
        }
      }
    })();
    const sampling = (async () => {
      while (Date.now() < until) {
        samples.push(await sample(h, started));
        await sleep(o.sampleEveryMs);
      }
    })();
    await Promise.all([load, chaos, sampling]);

    const settleFrom = Date.now();
    await h.waitSettled(600000);
    const settleSeconds = (Date.now() - settleFrom) / 1000;
    samples.push(await sample(h, started));
    const check = await verify(h, docs, chunking);
    const series: Record<string, number[]> = { api_rss: samples.map((s) => s.rssMb.api).filter((x) => x !== undefined), pg_connections: samples.map((s) => s.pgConnections) };
    for (let i = 0; i < o.chaos.workers; i++) series[`worker${i}_rss`] = samples.map((s) => s.rssMb[`worker${i}`]).filter((x) => x !== undefined);
    series.redis_memory = samples.map((s) => s.redisMemoryMb).filter((x): x is number => x !== null);
    return {
      seconds: (Date.now() - started) / 1000,
      ops,
      faults,
      ...check,
      settleSeconds,
      samples,
      growth: Object.fromEntries(Object.entries(series).map(([k, v]) => [k, growth(v)])),
      maxPgConnections: Math.max(...samples.map((s) => s.pgConnections)),
    };
  } finally {
    await h.stop();
  }
}

async function sample(h: ChaosHarness, started: number): Promise<SoakSample> {
  const rss: Record<string, number> = {};
  const api = rssMb(h.api?.child.pid);
  if (api !== null) rss.api = api;
  h.workers.forEach((w, i) => {
    const v = rssMb(w?.child.pid);
    if (v !== null) rss[`worker${i}`] = v;
  });
  const pg = await h.query<{ n: number }>(`SELECT count(*)::int - 1 AS n FROM pg_stat_activity WHERE datname = current_database()`).catch(() => [{ n: 0 }]);
  const redis = new Redis({ port: h.redis.port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  let redisMemoryMb: number | null = null;
  let redisKeys: number | null = null;
  try {
    await redis.connect();
    redisMemoryMb = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? 0) / (1024 * 1024);
    redisKeys = await redis.dbsize();
  } catch {
    // Redis restarting: no figure for this sample.
  } finally {
    redis.disconnect();
  }
  return { atMs: Date.now() - started, rssMb: rss, pgConnections: pg[0].n, redisMemoryMb, redisKeys };
}

async function verify(h: ChaosHarness, docs: Map<string, Tracked>, chunking: { size: number; overlap: number }) {
  const rows = await h.query<{ id: string; status: string; chunk_count: number | null; content_sha256: string; actual: number }>(
    `SELECT d.id, d.status, d.chunk_count, d.content_sha256, (SELECT count(*) FROM chunks c WHERE c.document_id = d.id)::int AS actual
       FROM documents d WHERE d.namespace = 'soak'`,
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  let lost = 0, wrongContent = 0, wrongChunkCount = 0, deletedLeft = 0, failed = 0, documents = 0;
  const expectedIds = new Set<string>();
  for (const d of docs.values()) {
    const row = byId.get(d.id);
    if (d.deleted) {
      if (row) deletedLeft++;
      continue;
    }
    documents++;
    expectedIds.add(d.id);
    if (!row || (row.status !== 'ready' && row.status !== 'failed')) { lost++; continue; }
    if (row.status === 'failed') { failed++; continue; }
    if (row.content_sha256 !== createHash('sha256').update(d.content).digest('hex')) wrongContent++;
    const expected = splitText(d.content, chunking).length;
    if (row.chunk_count !== expected || row.actual !== expected) wrongChunkCount++;
  }
  const [dup] = await h.query<{ n: number }>(`SELECT (count(*) - count(DISTINCT (document_id, chunk_index)))::int AS n FROM chunks`);
  const [orphans] = await h.query<{ n: number }>(`SELECT count(*)::int AS n FROM chunks c WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = c.document_id)`);
  return {
    documents, lost, wrongContent, wrongChunkCount, deletedLeft, failed,
    duplicateChunks: dup.n,
    orphanChunks: orphans.n,
    extraDocuments: rows.filter((r) => !expectedIds.has(r.id)).length,
  };
}

/** The verdict: what must hold after a soak. */
export function soakProblems(r: SoakResult): string[] {
  const problems: string[] = [];
  for (const k of ['lost', 'wrongContent', 'wrongChunkCount', 'duplicateChunks', 'orphanChunks', 'deletedLeft', 'extraDocuments', 'failed'] as const) {
    if (r[k] !== 0) problems.push(`${k}=${r[k]}`);
  }
  // Memory and connections: the last third may not sit clearly above the middle third.
  for (const [series, g] of Object.entries(r.growth)) {
    if (series === 'redis_memory') continue; // completed jobs are kept (up to 10,000, one hour): reported, not judged
    if (g > 1.5) problems.push(`${series} grew ${g.toFixed(2)}x`);
  }
  return problems;
}

export function formatSoak(r: SoakResult): string {
  const last = r.samples[r.samples.length - 1];
  return [
    `soak: ${r.seconds.toFixed(0)} s, ops ${JSON.stringify(r.ops)}, faults ${JSON.stringify(r.faults)}, settled ${r.settleSeconds.toFixed(1)} s after the load`,
    `  documents ${r.documents}: lost ${r.lost}, failed ${r.failed}, wrong content ${r.wrongContent}, wrong chunk count ${r.wrongChunkCount}, duplicate chunks ${r.duplicateChunks}, orphan chunks ${r.orphanChunks}, deleted left ${r.deletedLeft}, extra ${r.extraDocuments}`,
    `  growth (last third / middle third): ${Object.entries(r.growth).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`,
    `  last sample: rss ${JSON.stringify(Object.fromEntries(Object.entries(last?.rssMb ?? {}).map(([k, v]) => [k, Math.round(v)])))} MB, pg connections ${last?.pgConnections} (max ${r.maxPgConnections}), redis ${last?.redisMemoryMb?.toFixed(1)} MB / ${last?.redisKeys} keys`,
  ].join('\n');
}

function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) if (argv[i].startsWith('--')) out[argv[i].slice(2)] = argv[i + 1] ?? '';
  return out;
}

/** The service settings of a soak: the chaos suite's, with the self-healing timings short enough to matter. */
export const SOAK_ENV: Record<string, string> = { ...CHAOS_ENV, REDIS_LOSS_SWEEP: 'true', RECONCILE_AGE_MS: '60000', RECONCILE_INTERVAL_MS: '10000', AUDIT_INTERVAL_MS: '20000' };

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const minutes = Number(a.minutes ?? 30);
  const r = await runSoak({
    durationMs: minutes * 60000,
    faultEveryMs: Number(a['fault-every-s'] ?? 60) * 1000,
    faults: (a.faults ?? 'kill,redis,postgres,upstream').split(',') as SoakFault[],
    opsPerSecond: Number(a.ops ?? 10),
    sampleEveryMs: Number(a['sample-every-s'] ?? 10) * 1000,
    docSize: Number(a.size ?? 3000),
    chaos: {
      distDir: join(__dirname, '..', '..'),
      db: { host: '127.0.0.1', port: 5432, user: 'postgres', database: a.db ?? 'ingest_soak' },
      logDir: a.logs ?? '/tmp/ingest-soak-logs',
      workers: 2,
      env: SOAK_ENV,
      chunkSize: 500,
      chunkOverlap: 50,
    },
  });
  console.log(formatSoak(r));
  const problems = soakProblems(r);
  console.log(problems.length === 0 ? 'soak correct' : `soak INCORRECT: ${problems.join(', ')}`);
  process.exitCode = problems.length === 0 ? 0 : 1;
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.stack : String(err));
    process.exit(1);
  });
}
