import { Module } from '@nestjs/common';
import { WebhooksDataModule } from '../webhooks-data.module';
import { DocumentCallbacks } from './document-callbacks';
import { WebhookUrlPolicy } from './webhook-url.policy';

/** URL checks and document callbacks, for the API modules that accept webhook URLs. */
@Module({
  imports: [WebhooksDataModule],
  providers: [WebhookUrlPolicy, DocumentCallbacks],
  exports: [WebhookUrlPolicy, DocumentCallbacks, WebhooksDataModule],
})
export class WebhookRegistrationModule {}
