import { Module } from '@nestjs/common';
import { IngestQueueModule } from '../../ingest/queue/ingest-queue.module';
import { DocumentsController } from './documents.controller';
import { DocumentsDataModule } from '../documents-data.module';
import { DocumentsService } from './documents.service';
import { DocumentBatchService } from './document-batch.service';
import { DocumentChunksService } from './document-chunks.service';
import { ChunkPageRepository } from '../../vector-store/chunk-page.repository';
import { NamespacesController } from './namespaces.controller';

/** The REST API over documents: submit (one or a batch), status, list, chunks, reprocess, delete. */
@Module({
  imports: [DocumentsDataModule, IngestQueueModule],
  controllers: [DocumentsController, NamespacesController],
  providers: [DocumentsService, DocumentBatchService, DocumentChunksService, ChunkPageRepository],
})
export class DocumentsModule {}
