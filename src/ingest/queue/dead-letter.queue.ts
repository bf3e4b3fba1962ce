import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { Queue } from 'bullmq';
import { DEAD_LETTER_QUEUE, DeadLetterPayload, DeadLetterQueueJobs, IngestDocumentPayload, IngestJobName, deadLetterJobId } from './ingest.jobs';
import { QueueGateway } from './queue-gateway';

/**
 * The `ingest-dlq` queue: a copy of each job that failed for good, with its error, for
 * inspection with BullMQ tools. Postgres (`status = 'failed'`) is the source of truth;
 * the reconciler re-adds copies lost with Redis.
 */
@Injectable()
export class DeadLetterQueue extends QueueGateway<DeadLetterQueueJobs> {
  private readonly logger = new Logger(DeadLetterQueue.name);

  constructor(@InjectQueue(DEAD_LETTER_QUEUE) queue: Queue) {
    super(queue);
  }

  /** Adds the dead letter of one document version; false (logged) if Redis is unreachable. */
  async deadLetter(payload: DeadLetterPayload): Promise<boolean> {
    try {
      await this.add({ name: IngestJobName.DeadLetter, data: payload, opts: { jobId: deadLetterJobId(payload.original) } });
      return true;
    } catch (err) {
      this.logger.warn(`could not add dead letter for ${payload.original.documentId}: ${String(err)}`);
      return false;
    }
  }

  /** Removes the dead letter of one document version, if held; logged, never thrown. */
  async removeDeadLetter(original: IngestDocumentPayload): Promise<void> {
    try {
      await this.remove(deadLetterJobId(original));
    } catch (err) {
      this.logger.warn(`could not remove dead letter for ${original.documentId}: ${String(err)}`);
    }
  }

  /** Ids of the dead letters the queue holds now. */
  heldIds(): Promise<Set<string>> {
    return this.jobIds(['waiting', 'paused', 'delayed', 'prioritized']);
  }
}
