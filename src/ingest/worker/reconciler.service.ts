import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { APP_CONFIG } from '../../config/config.module';
import { AppConfig } from '../../config/app-config';
import { RedisClient, createRedisClient } from '../../common/redis-client';
import { DocumentsRepository } from '../../documents/documents.repository';
import { DeadLetterQueue } from '../queue/dead-letter.queue';
import { deadLetterJobId, ingestJobId } from '../queue/ingest.jobs';
import { IngestQueue } from '../queue/ingest.queue';
import { reconcilerDeadLetters, reconcilerRequeued } from '../../observability/metrics/service-metrics';

const LIVE_STATES = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);
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
 */
@Injectable()
export class Reconciler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(Reconciler.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private readonly owner = randomUUID();
  private readonly redis: RedisClient;

  constructor(
    private readonly documents: DocumentsRepository,
    private readonly queue: IngestQueue,
    private readonly deadLetters: DeadLetterQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    // Its own connection for the lock: fails fast while Redis is away, and never blocks.
    this.redis = createRedisClient(config.redis, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    this.redis.on('error', () => undefined);
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.running ??= this.runIfElected()
        .catch((err: unknown) => this.logger.warn(`reconcile failed: ${String(err)}`))
        .finally(() => (this.running = undefined));
    }, this.config.queue.reconcileIntervalMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    this.redis.disconnect();
  }

  /** One pass, if no other replica holds the lock. Null when another replica is running. */
  async runIfElected(): Promise<ReconcileReport | null> {
    const redis = this.redis;
    if (redis.status === 'wait') await redis.connect();
    const key = `${this.config.queue.prefix}:reconciler:lock`;
    const ttl = Math.max(this.config.queue.reconcileIntervalMs * 2, 10000);
    if ((await redis.set(key, this.owner, 'PX', ttl, 'NX')) !== 'OK') return null;
    try {
      return await this.reconcile();
    } finally {
      // Release only our own lock (it may have expired and been taken by another replica).
      await redis.eval(`if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`, 1, key, this.owner);
    }
  }

  /** One full pass; safe to run concurrently with workers and the API. */
  async reconcile(): Promise<ReconcileReport> {
    const requeued = await this.requeueLost();
    const dl = await this.syncDeadLetters();
    const report = { requeued, ...dl };
    reconcilerRequeued.inc(requeued);
    reconcilerDeadLetters.inc({ action: 'added' }, dl.deadLettersAdded);
    reconcilerDeadLetters.inc({ action: 'removed' }, dl.deadLettersRemoved);
    if (requeued + dl.deadLettersAdded + dl.deadLettersRemoved > 0) {
      this.logger.log(`reconciled: ${JSON.stringify(report)}`);
    }
    return report;
  }

  private async requeueLost(): Promise<number> {
    const stale = await this.documents.findStale(this.config.queue.reconcileAgeMs, BATCH);
    let requeued = 0;
    for (const doc of stale) {
      const payload = { documentId: doc.id, version: doc.version };
      const jobId = ingestJobId(payload);
      const state = await this.queue.jobState(jobId);
      if (LIVE_STATES.has(state)) continue;
      // A finished job with the document still waiting (its end was never recorded):
      // remove it so the same id can be added again.
      if (state !== 'unknown') await this.queue.remove(jobId).catch(() => 0);
      if (await this.queue.enqueue(payload)) requeued++;
    }
    return requeued;
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
