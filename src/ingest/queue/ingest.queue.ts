import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { JobState, Queue } from 'bullmq';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { currentRequestId, setLogDocument } from '../../observability/logging/log-context';
import { CAPPED_BACKOFF } from './backoff';
import { INGEST_QUEUE, IngestDocumentPayload, IngestJobName, IngestQueueJobs, ingestJobId } from './ingest.jobs';
import { JobOf, QueueGateway } from './queue-gateway';

/** The `ingest` queue: processing of document versions. */
@Injectable()
export class IngestQueue extends QueueGateway<IngestQueueJobs> {
  private readonly logger = new Logger(IngestQueue.name);

  constructor(@InjectQueue(INGEST_QUEUE) queue: Queue, @Inject(APP_CONFIG) private readonly config: AppConfig) {
    super(queue);
  }

  /**
   * Enqueues processing of one document version. Returns false (and logs) when Redis does
   * not take the job in time: the document is already committed in Postgres, so it is not
   * lost; the reconciler enqueues it once Redis is back (and a late add of this one is
   * harmless: the job id dedupes it).
   */
  async enqueue(payload: IngestDocumentPayload): Promise<boolean> {
    setLogDocument(payload.documentId, payload.version);
    try {
      await this.add(this.jobFor(payload));
      return true;
    } catch (err) {
      this.logger.error(`could not enqueue document ${payload.documentId} v${payload.version}: ${String(err)}`);
      return false;
    }
  }

  /**
   * Enqueues many document versions in one round trip (`addBulk`). Like `enqueue`, returns false (and logs)
   * when Redis does not take them: the documents are committed, and the reconciler enqueues them later.
   */
  async enqueueMany(payloads: IngestDocumentPayload[]): Promise<boolean> {
    try {
      await this.addBulk(payloads.map((p) => this.jobFor(p)));
      return true;
    } catch (err) {
      this.logger.error(`could not enqueue ${payloads.length} documents: ${String(err)}`);
      return false;
    }
  }

  private jobFor(payload: IngestDocumentPayload): JobOf<IngestQueueJobs> {
    const q = this.config.queue;
    return {
      name: IngestJobName.IngestDocument,
      data: { ...payload, requestId: payload.requestId ?? currentRequestId() },
      opts: {
        jobId: ingestJobId(payload),
        attempts: q.attempts,
        // Delays come from the workers' cappedJitteredBackoff (QUEUE_BACKOFF_MS, QUEUE_BACKOFF_MAX_MS).
        backoff: { type: CAPPED_BACKOFF },
        removeOnComplete: { age: 3600, count: 10000 },
        removeOnFail: { age: 7 * 24 * 3600 },
      },
    };
  }

  /**
   * Enqueues `payload` unless its job is live (waiting, active, delayed). A finished job
   * whose document is still waiting (its end was never recorded) is removed first, so the
   * same id can be added again. 'live' when nothing was needed, 'added', or 'failed'.
   */
  async enqueueUnlessLive(payload: IngestDocumentPayload): Promise<'live' | 'added' | 'failed'> {
    const state = await this.jobStateOf(payload);
    if (isLive(state)) return 'live';
    if (state !== 'unknown') await this.remove(ingestJobId(payload)).catch(() => undefined);
    return (await this.enqueue(payload)) ? 'added' : 'failed';
  }

  /** The state of the job of `payload`'s version ('unknown' when Redis does not hold it). */
  jobStateOf(payload: IngestDocumentPayload): Promise<JobState | 'unknown'> {
    return this.jobState(ingestJobId(payload));
  }
}

/** A job in one of these states will still run. */
export function isLive(state: JobState | 'unknown'): boolean {
  return LIVE_STATES.has(state);
}

const LIVE_STATES = new Set<string>(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);
