import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { CachedEmbedder } from '../embedding/cached-embedder';
import { EMBEDDING_PROVIDER, EmbeddingProvider } from '../embedding/embedding-provider';
import { EmbeddingCache } from '../embedding/embedding-cache';
import { EmbeddingCachePruner } from '../embedding/embedding-cache-pruner';
import { DocumentsDataModule } from '../documents/documents-data.module';
import { VectorStoreModule } from '../vector-store/vector-store.module';
import { IngestQueueModule } from './ingest-queue.module';
import { IngestProcessor } from './ingest.processor';
import { Reconciler } from './reconciler.service';
import { WORKER_LIVENESS, WorkerLivenessIndicator } from './worker-liveness.indicator';

/**
 * The consumer side, only in processes that run workers: the processor, the reconciler,
 * and the worker's liveness check (global so the health controller can find it).
 */
@Global()
@Module({
  imports: [IngestQueueModule, DocumentsDataModule, VectorStoreModule, TerminusModule],
  providers: [
    EmbeddingCache,
    {
      provide: CachedEmbedder,
      inject: [EMBEDDING_PROVIDER, EmbeddingCache, APP_CONFIG],
      useFactory: (provider: EmbeddingProvider, cache: EmbeddingCache, config: AppConfig) =>
        new CachedEmbedder(provider, cache, { batchSize: config.embedding.batchSize, enabled: config.embedding.cache }),
    },
    IngestProcessor,
    Reconciler,
    EmbeddingCachePruner,
    WorkerLivenessIndicator,
    { provide: WORKER_LIVENESS, useExisting: WorkerLivenessIndicator },
  ],
  exports: [WORKER_LIVENESS],
})
export class IngestWorkerModule {}
