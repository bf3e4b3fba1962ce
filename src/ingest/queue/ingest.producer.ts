import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { JobsOptions, Queue } from 'bullmq';
import { APP_CONFIG } from '../../config/config.module';
import { AppConfig } from '../../config/app-config';
import { withTimeout } from '../../common/with-timeout';
import { INGEST_QUEUE, IngestDocumentPayload, IngestJobName, IngestJobPayloads, ingestJobId } from './ingest.jobs';
import { CAPPED_BACKOFF } from './backoff';

// An API request must not hang on an unreachable Redis.
const ENQUEUE_TIMEOUT_MS = 2000;

/** The only place that adds ingest jobs; callers never touch the BullMQ queue. */
@Injectable()
export class IngestProducer {
  private readonly logger = new Logger(IngestProducer.name);

  constructor(
    @InjectQueue(INGEST_QUEUE) private readonly queue: Queue<IngestJobPayloads[IngestJobName], void, IngestJobName>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Enqueues processing of one document version. Returns false (and logs) when Redis does
   * not take the job within ENQUEUE_TIMEOUT_MS: the document is already committed in
   * Postgres, so it is not lost; the reconciler enqueues it once Redis is back (and a late
   * add of this one is harmless: the job id dedupes it).
   */
  async enqueue(payload: IngestDocumentPayload): Promise<boolean> {
    try {
      await withTimeout(
        this.queue.add(IngestJobName.IngestDocument, payload, this.jobOptions(payload)),
        ENQUEUE_TIMEOUT_MS,
        'enqueue',
      );
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
      // Delays come from the workers' cappedJitteredBackoff (QUEUE_BACKOFF_MS, QUEUE_BACKOFF_MAX_MS).
      backoff: { type: CAPPED_BACKOFF },
      removeOnComplete: { age: 3600, count: 10000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    };
  }
}
