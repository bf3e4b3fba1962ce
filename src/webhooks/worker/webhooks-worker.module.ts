import { Module } from '@nestjs/common';
import { DocumentsDataModule } from '../../documents/documents-data.module';
import { EventsModule } from '../../events/events.module';
import { STATUS_EVENTS } from '../../events/status-events';
import { WebhooksDataModule } from '../webhooks-data.module';
import { WebhookDispatcher } from './webhook-dispatcher';
import { WebhookProcessor } from './webhook.processor';
import { WebhookSender } from './webhook-sender';
import { WebhookSweeper } from './webhook-sweeper';
import { WorkerStatusEvents } from './worker-status-events';

/** The workers' side of events: publishing changes, dispatching (and repairing lost dispatches) and delivering webhooks. */
@Module({
  imports: [EventsModule, DocumentsDataModule, WebhooksDataModule],
  providers: [WebhookDispatcher, WebhookSender, WebhookSweeper, WebhookProcessor, WorkerStatusEvents, { provide: STATUS_EVENTS, useExisting: WorkerStatusEvents }],
  exports: [STATUS_EVENTS],
})
export class WebhooksWorkerModule {}
