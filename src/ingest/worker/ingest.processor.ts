import { Processor } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import { Job } from 'bullmq';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { DrainState } from '../../lifecycle/drain.state';
import { runWithLogContext } from '../../observability/logging/log-context';
import { acceptToReady, documentsReady } from '../../observability/metrics/service-metrics';
import { EmbedSlicePayload, INGEST_QUEUE, IngestDocumentPayload, IngestJobName, PublishSlicesPayload } from '../queue/ingest.jobs';
import { SliceOutcome, SlicedIngest } from '../slices/sliced-ingest';
import { IngestOutcome, IngestPipeline } from './ingest-pipeline';
import { JobDeadlines } from './job-deadlines';
import { WorkerCrashes } from './worker-crashes';
import { JobTries, QueueWorkerHost } from './queue-worker.host';

type Outcome = IngestOutcome | SliceOutcome;

/**
 * Consumes the ingest queue (WORKER_CONCURRENCY jobs at once): `ingest-document` jobs go
 * to the ingest pipeline, a large document's `embed-slice` and `publish-slices` jobs to
 * SlicedIngest.
 */
// autorun is off so that the configured settings are in place before the first job.
@Processor(INGEST_QUEUE, { autorun: false })
export class IngestProcessor extends QueueWorkerHost<IngestDocumentPayload, Outcome> {
  constructor(
    private readonly pipeline: IngestPipeline,
    private readonly drain: DrainState,
    @Inject(APP_CONFIG) config: AppConfig,
    deadlines: JobDeadlines,
    private readonly crashes: WorkerCrashes,
    private readonly slices: SlicedIngest,
  ) {
    super(config, deadlines);
  }

  override onApplicationBootstrap(): void {
    const logged = (work: Promise<void>): void => void work.catch((err: unknown) => this.logger.warn(`crash bookkeeping failed: ${String(err)}`));
    this.worker.on('stalled', (jobId: string) =>
      logged(this.crashes.stalled(jobId, () => Job.fromId<IngestDocumentPayload>(this.worker, jobId))));
    this.worker.on('failed', (job: Job<IngestDocumentPayload> | undefined, err: Error) => {
      if (job) logged(this.crashes.failed(job, err));
    });
    super.onApplicationBootstrap();
  }

  protected concurrency(): number {
    return this.config.queue.concurrency;
  }

  /** A slice's work is bounded by SLICE_CHUNKS whatever its document's size: the base deadline, not one scaled by the document. */
  protected override deadlineMs(payload: IngestDocumentPayload): Promise<number> {
    return 'slice' in payload ? Promise.resolve(this.config.healing.deadlineBaseMs) : super.deadlineMs(payload);
  }

  protected async handle(job: Job<IngestDocumentPayload, Outcome>, tries: JobTries): Promise<Outcome> {
    await this.crashes.beforeWork(job);
    const { documentId, version, requestId } = job.data;
    if (job.name === IngestJobName.EmbedSlice) {
      return runWithLogContext({ documentId, version, requestId }, () => this.slices.embedSlice(job.data as EmbedSlicePayload, tries));
    }
    if (job.name === IngestJobName.PublishSlices) {
      return runWithLogContext({ documentId, version, requestId }, () => this.finished(job, () => this.slices.publish(job.data as PublishSlicesPayload, tries)));
    }
    return runWithLogContext({ documentId, version, requestId }, () => this.finished(job, async () => {
      await this.crashes.crashIfPoisoned(job.data);
      return this.pipeline.run(job.data, tries);
    }));
  }

  /** Runs the job that may end a document, counting and logging how it ended. */
  private async finished(job: Job<IngestDocumentPayload, Outcome>, work: () => Promise<Outcome>): Promise<Outcome> {
    const { documentId, version } = job.data;
    const startedAt = Date.now();
    this.logger.debug(`${job.name} of document ${documentId} v${version} (attempt ${job.attemptsMade + 1} of ${job.opts.attempts ?? 1})`);
    const outcome = await work();
    // The job was added when the document was accepted (a retry keeps its timestamp; a
    // sliced document's publish job when it was split).
    const sinceAccepted = Math.max(0, Date.now() - job.timestamp);
    if (outcome === 'ready') {
      documentsReady.inc();
      acceptToReady.observe(sinceAccepted / 1000);
    }
    this.logger.log(`document ${documentId} v${version} ${outcome} in ${Date.now() - startedAt} ms (${sinceAccepted} ms since accepted)`);
    return outcome;
  }

  /** Readiness reports down and the API refuses documents from the moment the worker stops taking jobs. */
  override onModuleDestroy(): void {
    this.drain.start();
    super.onModuleDestroy();
  }
}
