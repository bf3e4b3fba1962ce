import { Module } from '@nestjs/common';
import { IngestQueueModule } from '../../ingest/queue/ingest-queue.module';
import { EventsModule } from '../../events/events.module';
import { WebhookRegistrationModule } from '../../webhooks/api/webhook-registration.module';
import { DocumentsController } from './documents.controller';
import { DocumentsDataModule } from '../documents-data.module';
import { DocumentsService } from './documents.service';
import { NamespacesController } from './namespaces.controller';

/** The REST API over documents: submit, status, list, reprocess, delete. */
@Module({
  imports: [DocumentsDataModule, IngestQueueModule, EventsModule, WebhookRegistrationModule],
  controllers: [DocumentsController, NamespacesController],
  providers: [DocumentsService],
})
export class DocumentsModule {}
