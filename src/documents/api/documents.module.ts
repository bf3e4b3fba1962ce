import { Module } from '@nestjs/common';
import { FileBlobModule } from '../../extraction/file-blob.module';
import { IngestQueueModule } from '../../ingest/queue/ingest-queue.module';
import { DocumentsController } from './documents.controller';
import { DocumentsDataModule } from '../documents-data.module';
import { DocumentsService } from './documents.service';
import { NamespacesController } from './namespaces.controller';
import { DocumentUploadInterceptor } from './upload/document-upload.interceptor';
import { DocumentUploadsService } from './upload/document-uploads.service';

/** The REST API over documents: submit, status, list, reprocess, delete. */
@Module({
  imports: [DocumentsDataModule, IngestQueueModule, FileBlobModule],
  controllers: [DocumentsController, NamespacesController],
  providers: [DocumentsService, DocumentUploadsService, DocumentUploadInterceptor],
})
export class DocumentsModule {}
