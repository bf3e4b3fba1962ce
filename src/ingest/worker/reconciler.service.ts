import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG } from '../../config/config.module';
import { AppConfig } from '../../config/app-config';
import { RedisClient } from '../../common/redis-client';
import { RedisLease, leaseConnection } from '../../common/redis-lease';
import { withTimeout } from '../../common/with-timeout';
import { DocumentsRepository, StaleDocument } from '../../documents/documents.repository';
import { DeadLetterQueue } from '../queue/dead-letter.queue';
import { deadLetterJobId } from '../queue/ingest.jobs';
import { IngestQueue } from '../queue/ingest.queue';
import { reconcilerDeadLetters, reconcilerRequeued } from '../../observability/metrics/service-metrics';

const BATCH = 500;

export interface ReconcileReport {
  requeued: number;
  deadLettersAdded: number;
  deadLettersRemoved: number;
}

/**
 * Repairs what Redis forgot. Postgres says which documents are waiting or failed; the
 * queue may have lost their jobs (Redis restarted empty, or the API could not enqueue).
 * Every RECONCILE_INTERVAL_MS one replica (a Redis lock elects it) re-enqueues documents
 * queued or processing for longer than RECONCILE_AGE_MS that have no live job, and makes
 * the dead-letter queue hold exactly the failed documents.
 *
 * A wiped Redis is recognised at once rather than by documents growing old: a marker key
 * under the queue prefix is checked on every reconnect and every REDIS_MARKER_CHECK_MS.
 * When it is missing (Redis restarted empty, flushed, or never used), the next pass
 * considers every unfinished document whatever its age, and writes the marker again.
 */
@Injectable()
export class Reconciler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(Reconciler.name);
  private timer?: NodeJS.Timeout;
  private markerTimer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private readonly redis: RedisClient;
  private readonly lease: RedisLease;
  private readonly markerKey: string;
  /** The marker was found missing and no full pass has completed since. */
  private sweepPending = false;
  /** When the marker was last found missing (for the recovery log line). */
  private lossSeenAt = 0;

  constructor(
    private readonly documents: DocumentsRepository,
    private readonly queue: IngestQueue,
    private readonly deadLetters: DeadLetterQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.redis = leaseConnection(config.redis);
    const ttl = Math.max(config.queue.reconcileIntervalMs * 2, 10000);
    this.lease = new RedisLease(this.redis, `${config.queue.prefix}:reconciler:lock`, ttl);
    this.markerKey = `${config.queue.prefix}:redis-marker`;
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.trigger(), this.config.queue.reconcileIntervalMs);
    this.timer.unref();
    if (!this.config.healing.redisLossSweep) return;
    this.markerTimer = setInterval(() => void this.checkMarker(), this.config.healing.redisMarkerCheckMs);
    this.markerTimer.unref();
    this.redis.on('ready', () => void this.checkMarker());
    void this.checkMarker();
  }

  /** Waits for a running pass for at most SHUTDOWN_GRACE_MS: a pass stuck on a lost connection must not hold the shutdown. */
  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.markerTimer);
    // A pass never rejects (trigger catches its errors): a rejection here is the grace running out.
    if (this.running) {
      await withTimeout(this.running, this.config.queue.shutdownGraceMs, 'a reconcile pass').catch((err: unknown) =>
        this.logger.warn(`${err instanceof Error ? err.message : String(err)}: shutting down without it`),
      );
    }
    this.redis.disconnect();
  }

  /** Starts a pass unless one is running in this process. */
  private trigger(): void {
    this.running ??= this.runIfElected()
      .catch((err: unknown) => this.logger.warn(`reconcile failed: ${String(err)}`))
      .finally(() => (this.running = undefined));
  }

  /** Looks for the marker; when it is gone, the next pass re-enqueues every unfinished document. */
  async checkMarker(): Promise<void> {
    try {
      if (this.redis.status === 'wait') await this.redis.connect();
      if (!this.sweepPending && (await this.redis.exists(this.markerKey)) === 1) return;
    } catch {
      return; // Redis unreachable: checked again on reconnect.
    }
    if (!this.sweepPending) {
      this.sweepPending = true;
      this.lossSeenAt = Date.now();
      this.logger.warn(`Redis holds no marker under "${this.config.queue.prefix}" (restarted empty, flushed, or new): re-enqueueing every unfinished document`);
    }
    this.trigger();
  }

  /** One pass, if no other replica holds the lock. Null when another replica is running. */
  async runIfElected(): Promise<ReconcileReport | null> {
    return this.lease.runIfFree(() => this.reconcile());
  }

  /** One full pass; safe to run concurrently with workers and the API. */
  async reconcile(): Promise<ReconcileReport> {
    const sweep = this.sweepPending;
    // Written first: a wipe during the pass removes it again and is seen by the next check.
    if (sweep) await this.redis.set(this.markerKey, new Date().toISOString());
    const requeued = await this.requeueLost(sweep ? 0 : this.config.queue.reconcileAgeMs);
    const dl = await this.syncDeadLetters();
    const report = { requeued, ...dl };
    reconcilerRequeued.inc(requeued);
    reconcilerDeadLetters.inc({ action: 'added' }, dl.deadLettersAdded);
    reconcilerDeadLetters.inc({ action: 'removed' }, dl.deadLettersRemoved);
    if (sweep) {
      this.sweepPending = false;
      this.logger.log(`after the Redis loss: ${requeued} document(s) re-enqueued ${Date.now() - this.lossSeenAt} ms after it was seen`);
    }
    if (requeued + dl.deadLettersAdded + dl.deadLettersRemoved > 0) {
      this.logger.log(`reconciled: ${JSON.stringify(report)}`);
    }
    return report;
  }

  private async requeueLost(olderThanMs: number): Promise<number> {
    let requeued = 0;
    let after: StaleDocument | undefined;
    for (;;) {
      const stale = await this.documents.findStale(olderThanMs, BATCH, { after });
      for (const doc of stale) {
        if ((await this.queue.enqueueUnlessLive({ documentId: doc.id, version: doc.version })) === 'added') requeued++;
      }
      if (stale.length < BATCH) return requeued;
      after = stale[stale.length - 1];
    }
  }

  private async syncDeadLetters(): Promise<{ deadLettersAdded: number; deadLettersRemoved: number }> {
    const failed = await this.documents.deadLetterSnapshot(10000);
    const held = await this.deadLetters.heldIds();
    const expected = new Set<string>();
    let added = 0;
    for (const d of failed) {
      const original = { documentId: d.id, version: d.version };
      const id = deadLetterJobId(original);
      expected.add(id);
      if (held.has(id)) continue;
      const ok = await this.deadLetters.deadLetter({
        original,
        namespace: d.namespace,
        errorClass: d.last_error_class ?? 'internal',
        error: d.last_error ?? '',
        stage: d.failed_stage,
        attempts: d.attempts,
        failedAt: new Date(d.updated_at).toISOString(),
      });
      if (ok) added++;
    }
    let removed = 0;
    // Only trust "extra" when the snapshot was complete.
    if (failed.length < 10000) {
      for (const id of held) {
        if (expected.has(id)) continue;
        const m = /^dead-(.+)-v(\d+)$/.exec(id);
        if (m) {
          await this.deadLetters.removeDeadLetter({ documentId: m[1], version: Number(m[2]) });
          removed++;
        }
      }
    }
    return { deadLettersAdded: added, deadLettersRemoved: removed };
  }
}
