import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { WebhookDeliveriesRepository } from '../webhook-deliveries.repository';
import { WebhookHttpClient } from '../webhook-http.client';
import { signWebhook } from '../webhook-signature';

export type SendOutcome = 'delivered' | 'gone';

/**
 * One attempt at a delivery: signed now, POSTed, recorded. A 2xx answer delivers it;
 * anything else throws so BullMQ retries, and the last attempt marks it failed.
 */
@Injectable()
export class WebhookSender implements OnModuleDestroy {
  private readonly client: WebhookHttpClient;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly deliveries: WebhookDeliveriesRepository,
  ) {
    this.client = new WebhookHttpClient(config.webhooks.timeoutMs, config.webhooks.allowPrivateNetworks);
  }

  async send(deliveryId: string, finalAttempt: boolean): Promise<SendOutcome> {
    const delivery = await this.deliveries.get(deliveryId);
    if (!delivery || delivery.status !== 'pending') return 'gone';
    const key = this.config.webhooks.secret;
    if (!key) throw new UnrecoverableError('WEBHOOK_SECRET is not set: webhooks cannot be signed');
    // The delivery id is the webhook-id: the same on every retry, so receivers can dedupe.
    const headers = signWebhook(key, `msg_${delivery.id}`, delivery.body);
    const answer = await this.client.post(delivery.url, { ...headers }, delivery.body);
    const delivered = answer.statusCode !== null && answer.statusCode >= 200 && answer.statusCode < 300;
    const error = delivered ? null : (answer.error ?? `receiver answered ${answer.statusCode}${answer.body ? `: ${answer.body.slice(0, 500)}` : ''}`);
    await this.deliveries.recordAttempt(delivery.id, { delivered, final: !delivered && finalAttempt, statusCode: answer.statusCode, error });
    if (!delivered) throw new Error(error ?? 'not delivered');
    return 'delivered';
  }

  onModuleDestroy(): Promise<void> {
    return this.client.close();
  }
}
