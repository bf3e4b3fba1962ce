import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
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
    IngestProcessor,
    Reconciler,
    WorkerLivenessIndicator,
    { provide: WORKER_LIVENESS, useExisting: WorkerLivenessIndicator },
  ],
  exports: [WORKER_LIVENESS],
})
export class IngestWorkerModule {}
