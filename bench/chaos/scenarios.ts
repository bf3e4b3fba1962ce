import { execFileSync } from 'node:child_process';
import { sleep } from '../support/child-processes';
import { ChaosHarness, ChaosOptions, ChaosResult, chaosCorpus } from './chaos-harness';

export interface ScenarioSize {
  docs: number;
  docSize: number;
  /** Longest the documents may take to settle after the last fault. */
  settleTimeoutMs: number;
}

const seeded = (seed: number): (() => number) => {
  let s = seed;
  return () => ((s = (Math.imul(s, 48271) >>> 0) % 2147483647) / 2147483647);
};

async function run(
  name: string,
  o: ChaosOptions,
  size: ScenarioSize,
  poisonRate: number,
  chaos: (h: ChaosHarness, posting: Promise<void>) => Promise<void>,
): Promise<ChaosResult> {
  const h = new ChaosHarness(o);
  try {
    await h.start(name);
    const docs = chaosCorpus(size.docs, size.docSize, name.length * 7919, poisonRate);
    const posting = h.post(docs);
    await chaos(h, posting);
    await posting;
    const settled = await h.waitSettled(size.settleTimeoutMs);
    // One reconciler pass after settling, so the dead-letter queue has caught up.
    await sleep(Number(o.env.RECONCILE_INTERVAL_MS ?? 1000) * 2);
    return await h.verify(name, settled);
  } finally {
    await h.stop();
  }
}

/** 1. Workers SIGKILLed five times at random moments, restarted each time. */
export function killWorkers(o: ChaosOptions, size: ScenarioSize, seed = 1): Promise<ChaosResult> {
  const rand = seeded(seed);
  return run('kill-workers', o, size, 0, async (h) => {
    for (let k = 0; k < 5; k++) {
      await waitForProgress(h, ((k + 1) / 7) * size.docs, 120000);
      await sleep(rand() * 500);
      const victim = Math.floor(rand() * o.workers);
      h.killWorker(victim);
      await h.startWorker(victim, 'kill-workers');
    }
  });
}

/** 2. Redis killed and restarted empty while documents are in flight. */
export function loseRedis(o: ChaosOptions, size: ScenarioSize): Promise<ChaosResult> {
  return run('redis-restart-empty', o, size, 0, async (h) => {
    await waitForProgress(h, size.docs * 0.3, 120000);
    await h.redis.kill();
    await sleep(1000);
    await h.redis.start();
    h.lastFaultAt = Date.now();
  });
}

/** 3. Postgres restarted (immediate mode: connections cut) mid-run. Needs pg_ctlcluster and root. */
export function restartPostgres(o: ChaosOptions, size: ScenarioSize): Promise<ChaosResult> {
  return run('postgres-restart', o, size, 0, async (h) => {
    await waitForProgress(h, size.docs * 0.3, 120000);
    const [version, cluster] = execFileSync('pg_lsclusters', ['--no-header']).toString().trim().split(/\s+/);
    execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, cluster, 'restart', '-m', 'immediate'], { stdio: 'ignore' });
    h.lastFaultAt = Date.now();
    await h.reconnectDb();
  });
}

/** 4. An embedding upstream failing 30% of calls transiently and rejecting 2% of documents. */
export function faultyEmbeddings(o: ChaosOptions, size: ScenarioSize): Promise<ChaosResult> {
  return run('faulty-embeddings', o, size, 0.02, async (h, posting) => {
    await posting;
    h.lastFaultAt = Date.now();
  });
}

/**
 * 5. SIGTERM to every worker mid-run: jobs in flight must finish, none may start after
 * the signal; then new workers take the rest.
 */
export function terminateWorkers(o: ChaosOptions, size: ScenarioSize): Promise<ChaosResult & { startedAfterSignal: number; leftProcessing: number }> {
  let startedAfterSignal = 0;
  let leftProcessing = 0;
  return run('sigterm-drain', o, size, 0, async (h, posting) => {
    await waitForProgress(h, size.docs * 0.3, 120000);
    const { drainingSince, exited } = await h.terminateWorkers();
    h.lastFaultAt = Date.now();
    await exited;
    const drainedAt = await h.dbNow();
    leftProcessing = (await h.statusCounts()).processing ?? 0;
    startedAfterSignal = await h.startedBetween(drainingSince, drainedAt);
    await posting;
    for (let i = 0; i < o.workers; i++) await h.startWorker(i, 'sigterm-drain');
  }).then((r) => ({ ...r, startedAfterSignal, leftProcessing }));
}

async function waitForProgress(h: ChaosHarness, settledTarget: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const c = await h.statusCounts().catch(() => ({}) as Record<string, number>);
    if ((c.ready ?? 0) + (c.failed ?? 0) >= settledTarget) return;
    await sleep(100);
  }
}

/** What the re-embed scenario checks beyond the common figures. */
export interface ReindexFigures {
  /** The new generation became active. */
  switched: boolean;
  kills: number;
  /** Documents posted while the re-embed ran. */
  postedDuring: number;
  /** Chunks of another model than the new one, after the switch. */
  oldModelChunks: number;
  /** Dimension of `chunks.embedding` after the switch. */
  dimension: number;
  /** `chunks_next` still exists. */
  chunksNextLeft: boolean;
  /** From the restart with the new model until the switch. */
  reembedSeconds: number;
}

const REINDEX_DIMENSION = 256;
const REINDEX_MODEL = `hash:fnv1a-uni-bigram-${REINDEX_DIMENSION}`;
const REINDEX_KILLS = 4;

interface ReindexView {
  active: { model: string };
  reindex: { state: string; documents: { total: number; done: number } | null } | null;
}

/**
 * 6. A re-embed into another model (the service restarted at EMBEDDING_DIMENSION=256 over
 * 384-dimensional vectors) while a worker is SIGKILLed four times and restarted, and a
 * tenth more documents arrive: the switch must still happen, with every document's
 * chunks, once each, all of the new model.
 */
export function reindexUnderKills(o: ChaosOptions, size: ScenarioSize, seed = 3): Promise<ChaosResult & ReindexFigures> {
  const name = 'reindex-kill-workers';
  const rand = seeded(seed);
  const f: ReindexFigures = { switched: false, kills: 0, postedDuring: 0, oldModelChunks: -1, dimension: 0, chunksNextLeft: true, reembedSeconds: 0 };
  return run(name, o, size, 0, async (h, posting) => {
    await posting;
    await h.waitSettled(size.settleTimeoutMs);
    const restartedAt = Date.now();
    await h.restartServices(name, { EMBEDDING_DIMENSION: String(REINDEX_DIMENSION), REINDEX_INTERVAL_MS: '500' });
    const extra = chaosCorpus(Math.max(1, Math.round(size.docs / 10)), size.docSize, seed * 104729);
    f.postedDuring = extra.length;
    const during = h.post(extra, 2, 'during-reindex');
    for (let k = 0; k < REINDEX_KILLS; k++) {
      if (!(await waitForReindex(h, (k + 1) / (REINDEX_KILLS + 2), 120000))) break;
      await sleep(rand() * 500);
      const victim = Math.floor(rand() * o.workers);
      h.killWorker(victim);
      f.kills++;
      await h.startWorker(victim, name);
    }
    await during;
    f.switched = await waitForSwitch(h, size.settleTimeoutMs);
    f.reembedSeconds = (Date.now() - restartedAt) / 1000;
    // Documents still queued at the switch go straight into the new generation.
    await h.waitSettled(size.settleTimeoutMs);
    const [row] = await h.query<{ other: string; dim: number; next: string | null }>(
      `SELECT (SELECT count(*) FROM chunks WHERE model <> $1) AS other,
              (SELECT atttypmod FROM pg_attribute WHERE attrelid = 'chunks'::regclass AND attname = 'embedding') AS dim,
              to_regclass('chunks_next')::text AS next`,
      [REINDEX_MODEL],
    );
    f.oldModelChunks = Number(row.other);
    f.dimension = Number(row.dim);
    f.chunksNextLeft = row.next !== null;
  }).then((r) => ({ ...r, ...f }));
}

async function reindexView(h: ChaosHarness): Promise<ReindexView | null> {
  try {
    const res = await fetch(`${h.api!.url}/v1/reindex`, { signal: AbortSignal.timeout(5000) });
    return res.status === 200 ? ((await res.json()) as ReindexView) : null;
  } catch {
    return null;
  }
}

/** Waits until the running re-embed has done `share` of its documents; false if it is no longer running. */
async function waitForReindex(h: ChaosHarness, share: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await reindexView(h);
    if (v?.reindex && v.reindex.state !== 'running') return false;
    const d = v?.reindex?.documents;
    if (d && d.total > 0 && d.done >= share * d.total) return true;
    await sleep(100);
  }
  return true;
}

/** Waits until the new model's generation is active; false if it was not within `timeoutMs`. */
async function waitForSwitch(h: ChaosHarness, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await reindexView(h);
    if (v?.reindex?.state === 'complete' && v.active.model === REINDEX_MODEL) return true;
    await sleep(200);
  }
  return false;
}
