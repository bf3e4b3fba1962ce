import { Module } from '@nestjs/common';
import { DocumentsDataModule } from '../documents/documents-data.module';
import { VectorStoreModule } from '../vector-store/vector-store.module';
import { IngestQueueModule } from './ingest-queue.module';
import { IngestProcessor } from './ingest.processor';

/** The consumer side: registers the ingest processor (only in processes that run workers). */
@Module({
  imports: [IngestQueueModule, DocumentsDataModule, VectorStoreModule],
  providers: [IngestProcessor],
})
export class IngestWorkerModule {}
