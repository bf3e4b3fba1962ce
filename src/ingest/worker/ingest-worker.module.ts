import { BullModule } from '@nestjs/bullmq';
import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { DocumentsDataModule } from '../../documents/documents-data.module';
import { EmbeddingCachePruner } from '../../embedding/worker/embedding-cache-pruner';
import { ExtractionWorkerModule } from '../../extraction/worker/extraction-worker.module';
import { ReembedDocument } from '../../reindex/worker/reembed-document';
import { ReindexCoordinator } from '../../reindex/worker/reindex.coordinator';
import { ReindexProcessor } from '../../reindex/worker/reindex.processor';
import { BackfillCoordinator } from '../../vector-store/backfill/backfill.coordinator';
import { VectorStoreModule } from '../../vector-store/vector-store.module';
import { WebhooksWorkerModule } from '../../webhooks/worker/webhooks-worker.module';
import { IngestQueueModule } from '../queue/ingest-queue.module';
import { SLICE_FLOWS, SliceFlows } from '../slices/slice-flows';
import { SliceRepository } from '../slices/slice.repository';
import { SlicedIngest } from '../slices/sliced-ingest';
import { FailureRecorder } from './failure-recorder';
import { IngestPipeline } from './ingest-pipeline';
import { ReadyCommits } from './ready-commits';
import { IngestProcessor } from './ingest.processor';
import { JobConnectionTracker } from './job-connection-tracker';
import { JobDeadlines } from './job-deadlines';
import { WorkerCrashes } from './worker-crashes';
import { Reconciler } from './reconciler.service';
import { WORKER_LIVENESS, WorkerLivenessIndicator } from './worker-liveness.indicator';

/**
 * The consumer side, only in processes that run workers: the ingest and re-embed
 * processors and what they run, the reconciler, the re-embed and backfill coordinators, the embedding
 * cache pruner, and the worker's liveness check (global so the health controller can find it).
 */
@Global()
@Module({
  imports: [IngestQueueModule, BullModule.registerFlowProducer({ name: SLICE_FLOWS }), DocumentsDataModule, VectorStoreModule, TerminusModule, ExtractionWorkerModule, WebhooksWorkerModule],
  providers: [
    IngestPipeline,
    ReadyCommits,
    SliceRepository,
    SliceFlows,
    SlicedIngest,
    FailureRecorder,
    IngestProcessor,
    JobConnectionTracker,
    JobDeadlines,
    WorkerCrashes,
    ReembedDocument,
    ReindexProcessor,
    ReindexCoordinator,
    BackfillCoordinator,
    Reconciler,
    EmbeddingCachePruner,
    WorkerLivenessIndicator,
    { provide: WORKER_LIVENESS, useExisting: WorkerLivenessIndicator },
  ],
  exports: [WORKER_LIVENESS, JobDeadlines],
})
export class IngestWorkerModule {}
