import { Processor } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import { Job } from 'bullmq';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { DrainState } from '../../lifecycle/drain.state';
import { runWithLogContext } from '../../observability/logging/log-context';
import { acceptToReady, documentsReady } from '../../observability/metrics/service-metrics';
import { INGEST_QUEUE, IngestDocumentPayload } from '../queue/ingest.jobs';
import { IngestOutcome, IngestPipeline } from './ingest-pipeline';
import { JobDeadlines } from './job-deadlines';
import { WorkerCrashes } from './worker-crashes';
import { JobTries, QueueWorkerHost } from './queue-worker.host';

/** Consumes `ingest-document` jobs: hands each to the ingest pipeline (WORKER_CONCURRENCY at once). */
// autorun is off so that the configured settings are in place before the first job.
@Processor(INGEST_QUEUE, { autorun: false })
export class IngestProcessor extends QueueWorkerHost<IngestDocumentPayload, IngestOutcome> {
  constructor(
    private readonly pipeline: IngestPipeline,
    private readonly drain: DrainState,
    @Inject(APP_CONFIG) config: AppConfig,
    deadlines: JobDeadlines,
    private readonly crashes: WorkerCrashes,
  ) {
    super(config, deadlines);
  }

  override onApplicationBootstrap(): void {
    const logged = (work: Promise<void>): void => void work.catch((err: unknown) => this.logger.warn(`crash bookkeeping failed: ${String(err)}`));
    this.worker.on('stalled', (jobId: string) => logged(this.crashes.stalled(jobId)));
    this.worker.on('failed', (job: Job<IngestDocumentPayload> | undefined, err: Error) => {
      if (job) logged(this.crashes.failed(job, err));
    });
    super.onApplicationBootstrap();
  }

  protected concurrency(): number {
    return this.config.queue.concurrency;
  }

  protected handle(job: Job<IngestDocumentPayload, IngestOutcome>, tries: JobTries): Promise<IngestOutcome> {
    const { documentId, version, requestId } = job.data;
    return runWithLogContext({ documentId, version, requestId }, async () => {
      await this.crashes.crashIfPoisoned(job.data);
      const startedAt = Date.now();
      this.logger.debug(`processing document ${documentId} v${version} (attempt ${tries.made + 1} of ${tries.allowed})`);
      const outcome = await this.pipeline.run(job.data, tries);
      // The job was added when the document was accepted (a retry keeps its timestamp).
      const sinceAccepted = Math.max(0, Date.now() - job.timestamp);
      if (outcome === 'ready') {
        documentsReady.inc();
        acceptToReady.observe(sinceAccepted / 1000);
      }
      this.logger.log(`document ${documentId} v${version} ${outcome} in ${Date.now() - startedAt} ms (${sinceAccepted} ms since accepted)`);
      return outcome;
    });
  }

  /** Readiness reports down and the API refuses documents from the moment the worker stops taking jobs. */
  override onModuleDestroy(): void {
    this.drain.start();
    super.onModuleDestroy();
  }
}
