import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { CAPPED_BACKOFF } from './backoff';
import { IngestJobName, REINDEX_QUEUE, ReindexDocumentPayload, ReindexQueueJobs, reindexJobId } from './ingest.jobs';
import { QueueGateway } from './queue-gateway';

/** The `ingest-reindex` queue: re-embedding of documents into a building generation. */
@Injectable()
export class ReindexQueue extends QueueGateway<ReindexQueueJobs> {
  constructor(@InjectQueue(REINDEX_QUEUE) queue: Queue, @Inject(APP_CONFIG) private readonly config: AppConfig) {
    super(queue);
  }

  /** Enqueues one job per document version; job ids dedupe what another process already enqueued. */
  async enqueueMany(payloads: ReindexDocumentPayload[]): Promise<void> {
    const q = this.config.queue;
    await this.addBulk(
      payloads.map((data) => ({
        name: IngestJobName.ReindexDocument,
        data,
        opts: {
          jobId: reindexJobId(data),
          attempts: q.attempts,
          backoff: { type: CAPPED_BACKOFF },
          // Postgres records the outcome; a finished job only has to free its id.
          removeOnComplete: true,
          removeOnFail: true,
        },
      })),
    );
  }
}
