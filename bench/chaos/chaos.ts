import { join } from 'node:path';
import { loadAverage } from '../support/cpu-usage';
import { ChaosOptions, ChaosResult, formatResult } from './chaos-harness';
import { ScenarioSize, faultyEmbeddings, killWorkers, loseRedis, reindexUnderKills, restartPostgres, terminateWorkers } from './scenarios';
import { withFaultyUpstream } from './faulty-upstream';

/**
 * The chaos suite: real processes (an API and two workers) against local Postgres and a
 * private Redis, one line of figures per scenario.
 *
 *   npm run chaos -- [--docs 2000] [--size 4000] [--only kill,redis,postgres,faults,sigterm,reindex]
 *       [--db ingest_chaos] [--logs /tmp/ingest-chaos-logs]
 */
async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const docs = Number(args.docs ?? 2000);
  const size = Number(args.size ?? 4000);
  const only = new Set((args.only ?? 'kill,redis,postgres,faults,sigterm,reindex').split(','));
  const options: ChaosOptions = {
    distDir: join(__dirname, '..', '..'),
    db: { host: '127.0.0.1', port: 5432, user: 'postgres', database: args.db ?? 'ingest_chaos' },
    logDir: args.logs ?? '/tmp/ingest-chaos-logs',
    workers: 2,
    env: CHAOS_ENV,
    chunkSize: 1000,
    chunkOverlap: 100,
  };
  const full: ScenarioSize = { docs, docSize: size, settleTimeoutMs: 600000 };
  const half: ScenarioSize = { ...full, docs: Math.max(1, Math.round(docs / 2)) };
  console.log(`chaos suite: ${docs} documents of ~${size} chars, 2 workers; load ${loadAverage()}; logs in ${options.logDir}`);
  const results: ChaosResult[] = [];
  /** Scenario-specific checks that failed, by scenario. */
  const incorrect: string[] = [];
  const report = (r: ChaosResult, extra: Record<string, number | boolean> = {}): void => {
    results.push(r);
    console.log(formatResult(r) + Object.entries(extra).map(([k, v]) => ` ${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(1) : v}`).join(''));
  };
  if (only.has('kill')) report(await killWorkers(options, full));
  if (only.has('redis')) report(await loseRedis(options, half));
  if (only.has('postgres')) report(await restartPostgres(options, half));
  if (only.has('faults')) report(await withFaultyUpstream((env) => faultyEmbeddings({ ...options, env: { ...options.env, ...env } }, full)));
  if (only.has('sigterm')) {
    const { startedAfterSignal, leftProcessing, ...r } = await terminateWorkers(options, half);
    report(r, { startedAfterSignal, leftProcessing });
  }
  if (only.has('reindex')) {
    const { switched, kills, postedDuring, oldModelChunks, dimension, chunksNextLeft, reembedSeconds, ...r } = await reindexUnderKills(options, full);
    report(r, { switched, kills, postedDuring, oldModelChunks, dimension, chunksNextLeft, reembedSeconds });
    if (!switched || oldModelChunks !== 0 || dimension !== 256 || chunksNextLeft) incorrect.push(r.scenario);
  }
  const bad = results.filter(
    (r) => r.lost > 0 || r.duplicateChunks > 0 || r.wrongChunkCount > 0 || r.failed !== r.expectedFailed || r.deadLetters !== r.failed || incorrect.includes(r.scenario),
  );
  console.log(`load ${loadAverage()}; ${bad.length === 0 ? 'all scenarios correct' : `${bad.length} scenario(s) INCORRECT`}`);
  process.exitCode = bad.length === 0 ? 0 : 1;
}

/** Service settings for the suite: short locks and reconcile periods so recovery is quick to observe. */
export const CHAOS_ENV: Record<string, string> = {
  WORKER_CONCURRENCY: '4',
  // The suite posts its documents as fast as it can; budgets per caller are not what it tests.
  RATE_LIMIT_WRITE_PER_MIN: '0',
  RATE_LIMIT_SEARCH_PER_MIN: '0',
  QUEUE_ATTEMPTS: '10',
  QUEUE_BACKOFF_MS: '200',
  QUEUE_BACKOFF_MAX_MS: '2000',
  QUEUE_LOCK_MS: '5000',
  QUEUE_STALLED_INTERVAL_MS: '2000',
  RECONCILE_INTERVAL_MS: '1000',
  RECONCILE_AGE_MS: '3000',
  SHUTDOWN_GRACE_MS: '30000',
};

function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith('--')) out[argv[i].slice(2)] = argv[i + 1] ?? '';
  }
  return out;
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.stack : String(err));
    process.exit(1);
  });
}
