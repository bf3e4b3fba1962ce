import { Module } from '@nestjs/common';
import { NamespaceWebhooksController } from './namespace-webhooks.controller';
import { WebhookDeliveriesController } from './webhook-deliveries.controller';
import { WebhookRegistrationModule } from './webhook-registration.module';

/** /v1/namespaces/:namespace/webhook and /v1/webhook-deliveries. */
@Module({
  imports: [WebhookRegistrationModule],
  controllers: [NamespaceWebhooksController, WebhookDeliveriesController],
})
export class WebhooksApiModule {}
