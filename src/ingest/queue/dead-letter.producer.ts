import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { Queue } from 'bullmq';
import { withTimeout } from '../../common/with-timeout';
import { DEAD_LETTER_QUEUE, DeadLetterPayload, IngestDocumentPayload, IngestJobName, deadLetterJobId } from './ingest.jobs';

const REDIS_TIMEOUT_MS = 2000;

/**
 * Keeps the `ingest-dlq` queue: a copy of each job that failed for good, with its error
 * history, for inspection with BullMQ tools. Postgres (`status = 'failed'`) is the
 * source of truth; the reconciler re-adds copies lost with Redis.
 */
@Injectable()
export class DeadLetterProducer {
  private readonly logger = new Logger(DeadLetterProducer.name);

  constructor(@InjectQueue(DEAD_LETTER_QUEUE) private readonly queue: Queue<DeadLetterPayload, void, IngestJobName>) {}

  /** Adds a dead letter; false (logged) if Redis is unreachable. */
  async add(payload: DeadLetterPayload): Promise<boolean> {
    try {
      await withTimeout(
        this.queue.add(IngestJobName.DeadLetter, payload, { jobId: deadLetterJobId(payload.original) }),
        REDIS_TIMEOUT_MS,
        'dead-letter add',
      );
      return true;
    } catch (err) {
      this.logger.warn(`could not add dead letter for ${payload.original.documentId}: ${String(err)}`);
      return false;
    }
  }

  async remove(original: IngestDocumentPayload): Promise<void> {
    try {
      await withTimeout(this.queue.remove(deadLetterJobId(original)), REDIS_TIMEOUT_MS, 'dead-letter remove');
    } catch (err) {
      this.logger.warn(`could not remove dead letter for ${original.documentId}: ${String(err)}`);
    }
  }

  /** Ids of the dead-letter jobs the queue holds now. */
  async jobIds(): Promise<Set<string>> {
    const jobs = await this.queue.getJobs(['waiting', 'paused', 'delayed', 'prioritized']);
    return new Set(jobs.filter((j) => j !== undefined).map((j) => String(j.id)));
  }
}
