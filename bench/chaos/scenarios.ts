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
