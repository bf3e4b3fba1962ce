import type { EnvReader } from './env-reader';

/** The job queue and the workers that take from it. */
export interface QueueConfig {
  /** Redis key prefix for every queue, so several deployments can share one Redis. */
  prefix: string;
  concurrency: number;
  /**
   * Niceness a worker process (ROLE=worker) takes at start (WORKER_NICE, 0-19): beside an API
   * process on the same machine, the API is served first and answers sooner.
   */
  workerNice: number;
  attempts: number;
  backoffMs: number;
  backoffMaxMs: number;
  /** How often the reconciler looks for documents whose job was lost. */
  reconcileIntervalMs: number;
  /** A queued/processing document unchanged for this long with no live job is re-enqueued. */
  reconcileAgeMs: number;
  /** How long a stopping worker waits for its jobs in flight before abandoning them to a retry. */
  shutdownGraceMs: number;
  /** A worker with waiting jobs that has started none for this long is reported not live. */
  stuckAfterMs: number;
  /** Job lock: a worker that stops renewing it (killed) loses the job after this long. */
  lockMs: number;
  /** How often workers look for jobs whose lock lapsed (stalled) and hand them out again. */
  stalledIntervalMs: number;
  /** Stalls a job may have before it is failed; re-delivery is safe, so this is generous. */
  maxStalledCount: number;
  /** How a worker process groups finished documents into one write transaction (see ReadyCommits); maxDocs 1 writes each alone. */
  commitGrouping: { maxDocs: number; maxChunks: number; windowMs: number };
}

/** Reads QUEUE_BACKOFF_MS, the floor of QUEUE_BACKOFF_MAX_MS (read apart: see loadConfig). */
export function readQueueBackoff(r: EnvReader): number {
  return r.int('QUEUE_BACKOFF_MS', 1000, 1, 3600000);
}

/**
 * The queue settings; `backoffMs` from {@link readQueueBackoff}. On a Redis Cluster every
 * key of a queue must share one slot, so the prefix must carry a hash tag (`{ingest}`).
 */
export function readQueue(r: EnvReader, backoffMs: number, cluster = false): QueueConfig {
  const prefix = r.str('QUEUE_PREFIX', cluster ? '{ingest}' : 'ingest');
  if (cluster && !/\{[^}]+\}/.test(prefix)) {
    r.fail('QUEUE_PREFIX', `must contain a hash tag on a Redis Cluster, e.g. "{${prefix}}", so each queue's keys share one slot`);
  }
  return {
    prefix,
    concurrency: r.int('WORKER_CONCURRENCY', 4, 1, 256),
    workerNice: r.int('WORKER_NICE', 10, 0, 19),
    attempts: r.int('QUEUE_ATTEMPTS', 5, 1, 100),
    backoffMs,
    backoffMaxMs: r.int('QUEUE_BACKOFF_MAX_MS', 60000, backoffMs, 86400000),
    reconcileIntervalMs: r.int('RECONCILE_INTERVAL_MS', 30000, 100, 86400000),
    reconcileAgeMs: r.int('RECONCILE_AGE_MS', 120000, 0, 86400000),
    shutdownGraceMs: r.int('SHUTDOWN_GRACE_MS', 30000, 0, 3600000),
    stuckAfterMs: r.int('WORKER_STUCK_AFTER_MS', 120000, 1000, 86400000),
    lockMs: r.int('QUEUE_LOCK_MS', 60000, 1000, 3600000),
    stalledIntervalMs: r.int('QUEUE_STALLED_INTERVAL_MS', 30000, 500, 3600000),
    maxStalledCount: r.int('QUEUE_MAX_STALLED', 5, 0, 1000),
    commitGrouping: {
      maxDocs: r.int('WRITE_GROUP_MAX_DOCS', 32, 1, 10000),
      maxChunks: r.int('WRITE_GROUP_MAX_CHUNKS', 4000, 1, 1000000),
      windowMs: r.int('WRITE_GROUP_WINDOW_MS', 2, 0, 10000),
    },
  };
}
