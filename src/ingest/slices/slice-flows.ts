import { InjectFlowProducer, InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import { FlowJob, FlowProducer, JobsOptions, Queue } from 'bullmq';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { withTimeout } from '../../common/with-timeout';
import { CAPPED_BACKOFF } from '../queue/backoff';
import { INGEST_QUEUE, IngestJobName, embedSliceJobId, publishSlicesJobId } from '../queue/ingest.jobs';
import { isLive } from '../queue/ingest.queue';
import { SliceRun } from './slice.repository';

/** The flow producer that fans large documents out on the ingest queue. */
export const SLICE_FLOWS = 'ingest-slices';

// One flow carries a child per slice: a few hundred jobs in one round trip.
const REDIS_TIMEOUT_MS = 10000;

/**
 * The BullMQ flow of one fan-out: a `publish-slices` parent that runs once every
 * `embed-slice` child has completed. Each child has its own attempts and backoff, so a
 * failed slice is retried alone; one that fails for good fails the parent with it.
 */
@Injectable()
export class SliceFlows {
  constructor(
    @InjectFlowProducer(SLICE_FLOWS) private readonly flows: FlowProducer,
    @InjectQueue(INGEST_QUEUE) private readonly queue: Queue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Adds the flow of `run` with a child for each of `slices` (the run's pending ones). */
  async start(run: SliceRun, slices: number[], requestId?: string): Promise<void> {
    const { documentId, version } = run;
    const parent = { documentId, version, run: run.run, requestId };
    const flow: FlowJob = {
      name: IngestJobName.PublishSlices,
      queueName: INGEST_QUEUE,
      data: parent,
      opts: { ...this.retried(), jobId: publishSlicesJobId(parent) },
      children: slices.map((slice) => {
        const data = { ...parent, slice };
        return { name: IngestJobName.EmbedSlice, queueName: INGEST_QUEUE, data, opts: { ...this.retried(), jobId: embedSliceJobId(data), failParentOnFailure: true } };
      }),
    };
    await withTimeout(this.flows.add(flow), REDIS_TIMEOUT_MS, 'slice flow add');
  }

  /** Whether the parent job of `run` will still run (its flow is in Redis). */
  async isLive(run: SliceRun): Promise<boolean> {
    const state = await withTimeout(this.queue.getJobState(publishSlicesJobId(run)), REDIS_TIMEOUT_MS, 'slice flow state');
    return isLive(state);
  }

  private retried(): JobsOptions {
    return {
      attempts: this.config.queue.attempts,
      backoff: { type: CAPPED_BACKOFF },
      removeOnComplete: { age: 3600, count: 10000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    };
  }
}
