import { Module } from '@nestjs/common';
import { IngestQueueModule } from '../ingest/ingest-queue.module';
import { DocumentsController } from './documents.controller';
import { DocumentsDataModule } from './documents-data.module';
import { DocumentsService } from './documents.service';

/** The REST API over documents: submit, status, list, reprocess, delete. */
@Module({
  imports: [DocumentsDataModule, IngestQueueModule],
  controllers: [DocumentsController],
  providers: [DocumentsService],
})
export class DocumentsModule {}
