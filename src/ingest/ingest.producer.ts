import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { JobsOptions, Queue } from 'bullmq';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/app-config';
import { INGEST_QUEUE, IngestDocumentPayload, IngestJobName, IngestJobPayloads, ingestJobId } from './ingest.jobs';

/** The only place that adds ingest jobs; callers never touch the BullMQ queue. */
@Injectable()
export class IngestProducer {
  private readonly logger = new Logger(IngestProducer.name);

  constructor(
    @InjectQueue(INGEST_QUEUE) private readonly queue: Queue<IngestJobPayloads[IngestJobName], void, IngestJobName>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Enqueues processing of one document version. Returns false (and logs) when Redis is
   * unreachable: the document is already committed in Postgres, so it is not lost; it is
   * picked up again once the queue is reachable.
   */
  async enqueue(payload: IngestDocumentPayload): Promise<boolean> {
    try {
      await this.queue.add(IngestJobName.IngestDocument, payload, this.jobOptions(payload));
      return true;
    } catch (err) {
      this.logger.error(`could not enqueue document ${payload.documentId} v${payload.version}: ${String(err)}`);
      return false;
    }
  }

  private jobOptions(payload: IngestDocumentPayload): JobsOptions {
    const q = this.config.queue;
    return {
      jobId: ingestJobId(payload),
      attempts: q.attempts,
      backoff: { type: 'exponential', delay: q.backoffMs },
      removeOnComplete: { age: 3600, count: 10000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    };
  }
}
