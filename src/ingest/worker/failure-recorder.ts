import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { DocumentsRepository } from '../../documents/documents.repository';
import { ingestFailures, ingestRetries } from '../../observability/metrics/service-metrics';
import { STATUS_EVENTS, StatusEvents } from '../../events/status-events';
import { DeadLetterQueue } from '../queue/dead-letter.queue';
import { IngestDocumentPayload } from '../queue/ingest.jobs';
import { JobFailure } from './job-failure';

/** The document version an attempt failed on; `namespace` is known once it was claimed. */
export interface FailedAttempt {
  payload: IngestDocumentPayload;
  namespace: string | null;
  attempt: number;
  startedAt: Date;
}

/**
 * Records a failed ingest attempt: the document goes back to `queued` for the retry
 * BullMQ schedules, or to `failed` when the failure is final, with a copy on the
 * dead-letter queue. Best effort: the database may be what failed; the reconciler
 * repairs what this misses.
 */
@Injectable()
export class FailureRecorder {
  private readonly logger = new Logger(FailureRecorder.name);

  constructor(
    private readonly documents: DocumentsRepository,
    private readonly deadLetters: DeadLetterQueue,
    @Optional() @Inject(STATUS_EVENTS) private readonly events: StatusEvents = { publish: async () => undefined },
  ) {}

  async record(a: FailedAttempt, failure: JobFailure): Promise<void> {
    const { documentId, version } = a.payload;
    (failure.final ? ingestFailures : ingestRetries).inc({ error_class: failure.errorClass });
    this.logger.warn(
      `document ${documentId} v${version} attempt ${a.attempt} failed at ${failure.stage ?? '?'} ` +
        `(${failure.errorClass}${failure.final ? ', final' : ', will retry'}): ${failure.message}`,
    );
    try {
      // One transaction: whoever sees the new status also sees the attempt in the history.
      const recorded = await this.documents.transaction(async (em) => {
        if (!(await this.documents.markAttemptFailed(documentId, version, failure, failure.final, em))) return false;
        await this.documents.recordAttempt(
          {
            documentId, version, attempt: a.attempt, startedAt: a.startedAt, outcome: failure.final ? 'failed' : 'retry',
            stage: failure.stage, errorClass: failure.errorClass, message: failure.message,
          },
          em,
        );
        return true;
      });
      if (recorded && a.namespace !== null) {
        await this.events.publish({
          documentId, namespace: a.namespace, version, status: failure.final ? 'failed' : 'queued',
          error: { class: failure.errorClass, message: failure.message, stage: failure.stage },
        });
      }
      if (!recorded || !failure.final) return;
      // Unclaimed (the claim itself failed): the reconciler's dead-letter pass adds it with its namespace.
      if (a.namespace === null) return;
      await this.deadLetters.deadLetter({
        original: a.payload,
        namespace: a.namespace,
        errorClass: failure.errorClass,
        error: failure.message,
        stage: failure.stage,
        attempts: a.attempt,
        failedAt: new Date().toISOString(),
      });
    } catch (err) {
      this.logger.error(`could not record the failure of ${documentId} v${version}: ${String(err)}`);
    }
  }
}
