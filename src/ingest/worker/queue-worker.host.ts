import { WorkerHost } from '@nestjs/bullmq';
import { BeforeApplicationShutdown, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { DelayedError, Job, Worker } from 'bullmq';
import { AppConfig } from '../../config/app-config';
import { cappedJitteredBackoff } from '../queue/backoff';
import { JobDeadline, JobDeadlineError, runWithDeadline } from './job-deadline';
import { JobDeadlines } from './job-deadlines';

/** What the liveness check needs to tell a working consumer from a wedged one. */
export interface ConsumerState {
  running: boolean;
  inFlight: number;
  lastStartedAt: number;
}

/** How many tries a job has had and may have: decides whether a failure is final. */
export interface JobTries {
  /** Attempts made before this one. */
  made: number;
  /** Attempts allowed in all. */
  allowed: number;
}

/**
 * The lifecycle every processor shares: configured start, drain on shutdown, liveness.
 * Subclasses are `@Processor(queue, { autorun: false })` classes implementing `handle`.
 *
 * Start: the @Processor decorator is static, so the configured concurrency, backoff,
 * lock and stall settings are applied before the worker runs (the lock manager copied
 * the lock timings when the worker was built, so it is rebuilt: a protected hook BullMQ
 * documents for subclasses; nothing has locked a job yet). A worker killed mid-job
 * leaves its job stalled; BullMQ's default `maxStalledCount: 1` would fail a document
 * whose worker dies twice, which a crash-looping deployment would do to healthy
 * documents. Re-delivery is safe (every step is idempotent), so QUEUE_MAX_STALLED
 * defaults to 5; the lock (QUEUE_LOCK_MS, renewed at half that) is long enough that a
 * busy event loop does not lose it.
 *
 * Drain: the first shutdown hook stops taking jobs at once; those in flight get
 * SHUTDOWN_GRACE_MS to finish, before the database and queue connections close. The
 * rest are abandoned: their locks lapse and another worker retries them.
 */
export abstract class QueueWorkerHost<Payload extends object, Result> extends WorkerHost implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown {
  protected readonly logger = new Logger(this.constructor.name);
  private inFlight = 0;
  private lastStartedAt = Date.now();
  private closing?: Promise<void>;

  protected constructor(
    protected readonly config: AppConfig,
    private readonly deadlines: JobDeadlines,
  ) {
    super();
  }

  /** Jobs this process runs at once. */
  protected abstract concurrency(): number;

  /** Delay before retry n; the queue's own backoff (QUEUE_BACKOFF_MS, QUEUE_BACKOFF_MAX_MS) unless overridden. */
  protected retryDelay(): (attemptsMade: number) => number {
    return cappedJitteredBackoff(this.config.queue.backoffMs, this.config.queue.backoffMaxMs);
  }

  /** A document's job gets a deadline scaled by its size; any other job the base deadline. */
  protected deadlineMs(payload: Payload): Promise<number> {
    const documentId = (payload as { documentId?: unknown }).documentId;
    return typeof documentId === 'string' ? this.deadlines.forDocument(documentId) : Promise.resolve(this.config.healing.deadlineBaseMs);
  }

  /** Runs one job; throw to retry (BullMQ `attempts`/`backoff`), `UnrecoverableError` to fail it for good. */
  protected abstract handle(job: Job<Payload, Result>, tries: JobTries): Promise<Result>;

  onApplicationBootstrap(): void {
    configureWorker(this.worker, this.config, this.concurrency(), this.retryDelay());
    // A job whose keys Redis lost (wiped mid-job) cannot be moved on; the reconciler re-adds it. Logged, not thrown.
    this.worker.on('error', (err: Error) => this.logger.warn(`queue worker: ${err.message}`));
    this.worker.run().catch((err: unknown) => this.logger.error(`worker stopped: ${String(err)}`));
  }

  onModuleDestroy(): void {
    this.closing ??= this.worker.close();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.onModuleDestroy();
    const grace = this.config.queue.shutdownGraceMs;
    if (this.inFlight > 0) this.logger.log(`draining: ${this.inFlight} job(s) in flight, grace ${grace} ms`);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      (this.closing as Promise<void>).then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), grace))),
    ]);
    clearTimeout(timer);
    // close(true) would return the same pending promise; the process exits regardless (see shutdown-watchdog.ts).
    if (timedOut) this.logger.warn(`grace period over with ${this.inFlight} job(s) in flight: leaving them to be retried`);
  }

  consumerState(): ConsumerState {
    return { running: this.worker.isRunning(), inFlight: this.inFlight, lastStartedAt: this.lastStartedAt };
  }

  async process(job: Job<Payload, Result>, token?: string): Promise<Result> {
    if (this.closing && token !== undefined) {
      // Fetched in the instant the shutdown began: hand it back untouched for another worker.
      await job.moveToDelayed(Date.now(), token);
      throw new DelayedError();
    }
    this.inFlight++;
    this.lastStartedAt = Date.now();
    try {
      const tries = { made: job.attemptsMade, allowed: job.opts.attempts ?? 1 };
      return await this.runWithinDeadline(new JobDeadline(await this.deadlineMs(job.data)), () => this.handle(job, tries));
    } finally {
      this.inFlight--;
    }
  }

  /**
   * Runs `work` under `deadline`. Past it, the connections the job holds are destroyed
   * (never returned to the pool) and their server sessions ended, which rolls back the
   * job's transaction and frees its row locks; the job's own error path then records the
   * attempt with class `timeout`. Work stuck outside the database gets a moment to notice,
   * then the job is failed here so the worker moves on.
   */
  private async runWithinDeadline(deadline: JobDeadline, work: () => Promise<Result>): Promise<Result> {
    let timer: NodeJS.Timeout | undefined;
    let abandon: NodeJS.Timeout | undefined;
    const running = runWithDeadline(deadline, work);
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const pids = deadline.expire();
        this.logger.warn(`job exceeded its deadline of ${deadline.limitMs} ms: aborting it (${pids.length} connection(s) destroyed)`);
        void this.deadlines.terminate(pids);
        abandon = setTimeout(() => reject(new JobDeadlineError(deadline.limitMs)), ABANDON_AFTER_MS);
      }, deadline.limitMs);
    });
    try {
      return await Promise.race([running, expired]);
    } finally {
      clearTimeout(timer);
      clearTimeout(abandon);
    }
  }
}

/** How long an expired job gets to fail by itself (its connections cut) before the worker gives up on it. */
const ABANDON_AFTER_MS = 5000;

function configureWorker(worker: Worker, config: AppConfig, concurrency: number, retryDelay: (attemptsMade: number) => number): void {
  const q = config.queue;
  worker.concurrency = concurrency;
  Object.assign(worker.opts, {
    settings: { backoffStrategy: retryDelay },
    lockDuration: q.lockMs,
    lockRenewTime: q.lockMs / 2,
    stalledInterval: q.stalledIntervalMs,
    maxStalledCount: q.maxStalledCount,
  });
  (worker as unknown as { createLockManager(): void }).createLockManager();
}
