import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { withTimeout } from '../../common/with-timeout';
import { DEAD_LETTER_QUEUE, INGEST_QUEUE, REINDEX_QUEUE, WEBHOOK_QUEUE } from '../../ingest/queue/ingest.jobs';
import { ReuseFor } from '../reuse-for';

/** The job states reported for every queue (BullMQ 5's names). */
export const JOB_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'paused', 'completed', 'failed'] as const;
export type JobStateName = (typeof JOB_STATES)[number];

/** One queue at one moment. */
export interface QueueState {
  name: string;
  counts: Record<JobStateName, number>;
  /** Seconds since the oldest job still waiting (paused included) was added; null when none waits. */
  oldestWaitingAgeSeconds: number | null;
  paused: boolean;
}

const REDIS_TIMEOUT_MS = 2000;

/**
 * Counts by state of every queue of the service, shared by `/metrics` and `GET /v1/queues`.
 * The answer is reused for METRICS_QUEUE_CACHE_MS (and concurrent callers share one read),
 * so many scrapers and dashboards cost Redis one round of `getJobCounts` per period.
 */
@Injectable()
export class QueueStates {
  private readonly queues: Queue[];
  private readonly states: ReuseFor<QueueState[]>;

  constructor(
    @InjectQueue(INGEST_QUEUE) ingest: Queue,
    @InjectQueue(DEAD_LETTER_QUEUE) deadLetters: Queue,
    @InjectQueue(REINDEX_QUEUE) reindex: Queue,
    @InjectQueue(WEBHOOK_QUEUE) webhooks: Queue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.queues = [ingest, deadLetters, reindex, webhooks];
    this.states = new ReuseFor(
      () => this.config.observability.queueCountsCacheMs,
      () => {
        const now = Date.now();
        return Promise.all(this.queues.map((q) => this.readOne(q, now)));
      },
    );
  }

  /** The state of each queue, at most METRICS_QUEUE_CACHE_MS old. Rejects when Redis does not answer in time. */
  read(): Promise<QueueState[]> {
    return this.states.get();
  }

  private async readOne(queue: Queue, now: number): Promise<QueueState> {
    const [counts, oldest, paused] = await withTimeout(
      Promise.all([queue.getJobCounts(...JOB_STATES), this.oldestWaiting(queue), queue.isPaused()]),
      REDIS_TIMEOUT_MS,
      `${queue.name} job counts`,
    );
    const byState = Object.fromEntries(JOB_STATES.map((s) => [s, counts[s] ?? 0])) as Record<JobStateName, number>;
    return {
      name: queue.name,
      counts: byState,
      oldestWaitingAgeSeconds: oldest === null ? null : Math.max(0, (now - oldest) / 1000),
      paused,
    };
  }

  /**
   * When the oldest waiting job was added: the tail of the wait list, or of the paused list
   * where a paused queue puts new jobs (the service sets no priorities).
   */
  private async oldestWaiting(queue: Queue): Promise<number | null> {
    const tails = await Promise.all([queue.getJobs(['wait'], 0, 0, true), queue.getJobs(['paused'], 0, 0, true)]);
    const times = tails.flat().filter((j) => j !== undefined).map((j) => j.timestamp);
    return times.length > 0 ? Math.min(...times) : null;
  }
}
