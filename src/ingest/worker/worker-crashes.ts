import { Inject, Injectable, Logger } from '@nestjs/common';
import { Job, UnrecoverableError } from 'bullmq';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { DocumentEntity } from '../../documents/document.entity';
import { DocumentsRepository } from '../../documents/documents.repository';
import { IngestDocumentPayload } from '../queue/ingest.jobs';
import { FailureRecorder } from './failure-recorder';

/** BullMQ's reason for failing a job that stalled more than `maxStalledCount` times. */
const STALL_LIMIT_REASON = 'job stalled more than allowable limit';
const JOB_ID = /^doc-([0-9a-f-]{36})-v(\d+)$/;
/** How long a job handed out again after a stall waits for its `stalled` event (see `beforeWork`). */
const STALL_EVENT_GRACE_MS = 100;

/**
 * Poison documents: a job whose worker process dies under it (killed, out of memory) is
 * found stalled by another worker and handed out again. Each such stall is recorded in the
 * document's history with class `worker_crash`; after QUEUE_MAX_STALLED of them BullMQ
 * fails the job, and the document ends `failed` with class `worker_crash` and a dead letter,
 * instead of crash-looping the workers for ever.
 */
@Injectable()
export class WorkerCrashes {
  private readonly logger = new Logger(WorkerCrashes.name);
  /** Stall records this process has begun writing. */
  private readonly recording = new Set<Promise<void>>();

  constructor(
    private readonly documents: DocumentsRepository,
    private readonly failures: FailureRecorder,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * A job was found stalled (its worker stopped renewing its lock): record the lost attempt.
   * Past the stall limit BullMQ marks the job to fail (`deferredFailure`) and emits `failed`
   * at about the same time, possibly from another worker: `failed` then records this last
   * crash itself, before the failure, so neither order of the two events loses it.
   */
  stalled(jobId: string, findJob: () => Promise<Job<IngestDocumentPayload> | undefined>): Promise<void> {
    const recorded = this.recordStall(jobId, findJob);
    this.recording.add(recorded);
    void recorded.catch(() => undefined).finally(() => this.recording.delete(recorded));
    return recorded;
  }

  /**
   * Waits for the stall records this process is writing before it works on `job`. The
   * process that finds a job stalled often takes it again at once, and a poison would kill
   * it before the last crash is on record. A job handed out again after a stall
   * (`stalledCounter`) also gives its `stalled` event, which may still be on its way,
   * STALL_EVENT_GRACE_MS to arrive.
   */
  async beforeWork(job: Job): Promise<void> {
    if (job.stalledCounter > 0) await new Promise((resolve) => setTimeout(resolve, STALL_EVENT_GRACE_MS));
    await Promise.allSettled([...this.recording]);
  }

  private async recordStall(jobId: string, findJob: () => Promise<Job<IngestDocumentPayload> | undefined>): Promise<void> {
    const payload = payloadOf(jobId);
    if (!payload) return;
    // Both reads at once: a poison document may kill this very process as soon as it takes the job again.
    const [job, doc] = await Promise.all([findJob(), this.waiting(payload)]);
    if (!job || job.deferredFailure || !doc) return;
    this.logger.warn(`document ${doc.id} v${doc.version}: its worker stopped while processing it (killed, crashed or frozen); handed out again`);
    await this.recordLostAttempt(doc);
  }

  /** A job failed by BullMQ: if for stalling too often, the document fails for good as a poison. */
  async failed(job: Job<IngestDocumentPayload>, err: Error): Promise<void> {
    if (err.message !== STALL_LIMIT_REASON) return;
    const doc = await this.waiting(job.data);
    if (!doc) return;
    await this.recordLostAttempt(doc);
    const message = `the worker process stopped while processing this document more than ${this.config.queue.maxStalledCount} time(s) (QUEUE_MAX_STALLED): given up as a poison document`;
    await this.failures.record(
      { payload: job.data, namespace: doc.namespace, attempt: doc.attempts, startedAt: doc.startedAt ?? new Date() },
      { errorClass: 'worker_crash', transient: false, message, stage: null, final: true, rethrow: new UnrecoverableError(message) },
    );
  }

  /** The document of this job's version, if it still waits on it (queued, or claimed by the lost worker). */
  private async waiting(payload: IngestDocumentPayload): Promise<DocumentEntity | null> {
    const doc = await this.documents.findById(payload.documentId);
    return doc && doc.version === payload.version && (doc.status === 'processing' || doc.status === 'queued') ? doc : null;
  }

  private recordLostAttempt(doc: DocumentEntity): Promise<void> {
    return this.documents.recordAttempt({
      documentId: doc.id, version: doc.version, attempt: doc.attempts, startedAt: doc.startedAt ?? doc.updatedAt, outcome: 'retry',
      stage: null, errorClass: 'worker_crash', message: 'the worker process stopped while processing this document',
    });
  }

  /** Test-only fault: kills this process on a document whose text holds FAULT_CRASH_ON_TEXT. */
  async crashIfPoisoned(payload: IngestDocumentPayload): Promise<void> {
    const marker = this.config.healing.crashOnText;
    if (!marker) return;
    const text = await this.documents.loadContent(payload.documentId, payload.version);
    if (text?.includes(marker)) process.kill(process.pid, 'SIGKILL');
  }
}

function payloadOf(jobId: string): IngestDocumentPayload | null {
  const m = JOB_ID.exec(jobId);
  return m ? { documentId: m[1], version: Number(m[2]) } : null;
}
