import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { EmbeddingCache } from '../../embedding/embedding-cache';
import { EmbeddingCachePruner } from '../../embedding/worker/embedding-cache-pruner';
import { DocumentsDataModule } from '../../documents/documents-data.module';
import { VectorStoreModule } from '../../vector-store/vector-store.module';
import { IngestQueueModule } from '../queue/ingest-queue.module';
import { GenerationEmbedders } from './generation-embedders';
import { IngestProcessor } from './ingest.processor';
import { ReindexCoordinator } from '../../reindex/worker/reindex.coordinator';
import { ReindexProcessor } from '../../reindex/worker/reindex.processor';
import { Reconciler } from './reconciler.service';
import { WORKER_LIVENESS, WorkerLivenessIndicator } from './worker-liveness.indicator';

/**
 * The consumer side, only in processes that run workers: the ingest and re-embed
 * processors, the reconciler, the re-embed coordinator,
 * and the worker's liveness check (global so the health controller can find it).
 */
@Global()
@Module({
  imports: [IngestQueueModule, DocumentsDataModule, VectorStoreModule, TerminusModule],
  providers: [
    EmbeddingCache,
    GenerationEmbedders,
    IngestProcessor,
    ReindexProcessor,
    ReindexCoordinator,
    Reconciler,
    EmbeddingCachePruner,
    WorkerLivenessIndicator,
    { provide: WORKER_LIVENESS, useExisting: WorkerLivenessIndicator },
  ],
  exports: [WORKER_LIVENESS],
})
export class IngestWorkerModule {}
