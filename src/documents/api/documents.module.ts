import { Module } from '@nestjs/common';
import { FileBlobModule } from '../../extraction/file-blob.module';
import { IngestQueueModule } from '../../ingest/queue/ingest-queue.module';
import { EventsModule } from '../../events/events.module';
import { WebhookRegistrationModule } from '../../webhooks/api/webhook-registration.module';
import { DocumentsController } from './documents.controller';
import { DocumentsDataModule } from '../documents-data.module';
import { DocumentsService } from './documents.service';
import { AcceptGroups } from './accept-groups';
import { DocumentBatchService } from './document-batch.service';
import { DocumentChunksService } from './document-chunks.service';
import { ChunkPageRepository } from '../../vector-store/chunk-page.repository';
import { VectorStoreModule } from '../../vector-store/vector-store.module';
import { NamespacesController } from './namespaces.controller';
import { DocumentUploadInterceptor } from './upload/document-upload.interceptor';
import { DocumentUploadsService } from './upload/document-uploads.service';

/** The REST API over documents: submit (one or a batch), status, list, chunks, reprocess, delete. */
@Module({
  imports: [DocumentsDataModule, IngestQueueModule, FileBlobModule, EventsModule, WebhookRegistrationModule, VectorStoreModule],
  controllers: [DocumentsController, NamespacesController],
  providers: [DocumentsService, AcceptGroups, DocumentBatchService, DocumentChunksService, ChunkPageRepository, DocumentUploadsService, DocumentUploadInterceptor],
})
export class DocumentsModule {}
