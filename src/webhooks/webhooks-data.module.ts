import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { WEBHOOK_QUEUE } from '../ingest/queue/ingest.jobs';
import { DocumentCallbacksRepository } from './document-callbacks.repository';
import { NamespaceWebhooksRepository } from './namespace-webhooks.repository';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository';
import { WebhookQueue } from './webhook.queue';

const PROVIDERS = [DocumentCallbacksRepository, NamespaceWebhooksRepository, WebhookDeliveriesRepository, WebhookQueue];

/** The webhook tables and queue, shared by the API (registration, retries) and the workers (delivery). */
@Module({
  imports: [BullModule.registerQueue({ name: WEBHOOK_QUEUE })],
  providers: PROVIDERS,
  exports: [...PROVIDERS, BullModule],
})
export class WebhooksDataModule {}
