import { Processor } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import { Job } from 'bullmq';
import { AppConfig } from '../../config/app-config';
import { JobDeadlines } from '../../ingest/worker/job-deadlines';
import { APP_CONFIG } from '../../config/config.module';
import { REINDEX_QUEUE, ReindexDocumentPayload } from '../../ingest/queue/ingest.jobs';
import { JobTries, QueueWorkerHost } from '../../ingest/worker/queue-worker.host';
import { runWithLogContext } from '../../observability/logging/log-context';
import { reindexProcessed } from '../../observability/metrics/service-metrics';
import { ReembedDocument, ReembedOutcome } from './reembed-document';

/** Consumes `reindex-document` jobs (REINDEX_CONCURRENCY at once): see ReembedDocument. */
@Processor(REINDEX_QUEUE, { autorun: false })
export class ReindexProcessor extends QueueWorkerHost<ReindexDocumentPayload, ReembedOutcome> {
  constructor(
    private readonly reembed: ReembedDocument,
    @Inject(APP_CONFIG) config: AppConfig,
    deadlines: JobDeadlines,
  ) {
    super(config, deadlines);
  }

  protected concurrency(): number {
    return this.config.reindex.concurrency;
  }

  protected handle(job: Job<ReindexDocumentPayload, ReembedOutcome>, tries: JobTries): Promise<ReembedOutcome> {
    const { documentId, version } = job.data;
    return runWithLogContext({ documentId, version }, async () => {
      try {
        const outcome = await this.reembed.run(job.data, tries);
        reindexProcessed.inc({ outcome });
        return outcome;
      } catch (err) {
        reindexProcessed.inc({ outcome: 'failed' });
        throw err;
      }
    });
  }
}
