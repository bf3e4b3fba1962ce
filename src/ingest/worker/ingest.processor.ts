import { Processor } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import { Job } from 'bullmq';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { DrainState } from '../../lifecycle/drain.state';
import { INGEST_QUEUE, IngestDocumentPayload } from '../queue/ingest.jobs';
import { withTimeout } from '../../common/with-timeout';
import { DocumentsRepository } from '../../documents/documents.repository';
import { IngestOutcome, IngestPipeline } from './ingest-pipeline';
import { JobConnectionTracker } from './job-connection-tracker';
import { deadlineFor } from './job-deadline';
import { WorkerCrashes } from './worker-crashes';
import { JobTries, QueueWorkerHost } from './queue-worker.host';

/** Consumes `ingest-document` jobs: hands each to the ingest pipeline (WORKER_CONCURRENCY at once). */
// autorun is off so that the configured settings are in place before the first job.
@Processor(INGEST_QUEUE, { autorun: false })
export class IngestProcessor extends QueueWorkerHost<IngestDocumentPayload, IngestOutcome> {
  constructor(
    private readonly pipeline: IngestPipeline,
    private readonly drain: DrainState,
    private readonly documents: DocumentsRepository,
    @Inject(APP_CONFIG) config: AppConfig,
    connections: JobConnectionTracker,
    private readonly crashes: WorkerCrashes,
  ) {
    super(config, connections);
  }

  override onApplicationBootstrap(): void {
    const logged = (work: Promise<void>): void => void work.catch((err: unknown) => this.logger.warn(`crash bookkeeping failed: ${String(err)}`));
    this.worker.on('stalled', (jobId: string) => logged(this.crashes.stalled(jobId)));
    this.worker.on('failed', (job: Job<IngestDocumentPayload> | undefined, err: Error) => {
      if (job) logged(this.crashes.failed(job, err));
    });
    super.onApplicationBootstrap();
  }

  /** Scaled by the document's size, so a large document is not cut off by a limit meant for a small one. */
  protected override async deadlineMs(job: Job<IngestDocumentPayload, IngestOutcome>): Promise<number> {
    const h = this.config.healing;
    const doc = await withTimeout(this.documents.findById(job.data.documentId), 5000, 'document size').catch(() => null);
    return deadlineFor(doc?.contentLength ?? 0, h.deadlineBaseMs, h.deadlinePerMbMs);
  }

  protected concurrency(): number {
    return this.config.queue.concurrency;
  }

  protected async handle(job: Job<IngestDocumentPayload, IngestOutcome>, tries: JobTries): Promise<IngestOutcome> {
    await this.crashes.crashIfPoisoned(job.data);
    return this.pipeline.run(job.data, tries);
  }

  /** Readiness reports down and the API refuses documents from the moment the worker stops taking jobs. */
  override onModuleDestroy(): void {
    this.drain.start();
    super.onModuleDestroy();
  }
}
