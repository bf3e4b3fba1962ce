import { Inject, Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { DocumentReadsRepository } from '../../documents/document-reads.repository';
import { toDocumentView } from '../../documents/api/document.view';
import { StatusEvent } from '../../events/status-event';
import { DocumentCallbacksRepository } from '../document-callbacks.repository';
import { NamespaceWebhooksRepository } from '../namespace-webhooks.repository';
import { DeliveryTarget, WebhookDeliveriesRepository } from '../webhook-deliveries.repository';
import { WebhookEventType } from '../webhook-event-types';
import { WebhookQueue } from '../webhook.queue';

/**
 * Turns a document's `ready` or `failed` into deliveries: its callback URL and its
 * namespace's webhook (when that webhook wants the event). The body is the document's
 * status as GET /v1/documents/:id shows it, fixed at this moment, so every retry sends
 * the same bytes under the same webhook-id.
 */
@Injectable()
export class WebhookDispatcher {
  private readonly logger = new Logger(WebhookDispatcher.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly reads: DocumentReadsRepository,
    private readonly callbacks: DocumentCallbacksRepository,
    private readonly namespaceWebhooks: NamespaceWebhooksRepository,
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly queue: WebhookQueue,
  ) {}

  async dispatch(event: StatusEvent): Promise<void> {
    if (!this.config.webhooks.secret || (event.status !== 'ready' && event.status !== 'failed')) return;
    const type: WebhookEventType = event.status === 'ready' ? 'document.ready' : 'document.failed';
    const [callback, hook] = await Promise.all([this.callbacks.get(event.documentId), this.namespaceWebhooks.get(event.namespace)]);
    const targets: Array<{ target: DeliveryTarget; url: string }> = [];
    if (callback) targets.push({ target: 'callback', url: callback });
    if (hook && hook.events.includes(type)) targets.push({ target: 'namespace', url: hook.url });
    if (targets.length === 0) return;

    const found = await this.reads.findWithModel(event.documentId);
    if (!found || found.document.version !== event.version) return;
    const body = JSON.stringify({ type, timestamp: event.at, data: toDocumentView(found) });
    for (const { target, url } of targets) {
      const delivery = await this.deliveries.create({
        documentId: event.documentId, namespace: event.namespace, version: event.version, eventType: type, target, url, body,
      });
      if (delivery) await this.queue.enqueue(delivery.id, 0);
    }
  }

  /** Dispatches without throwing: a webhook problem never fails the document's processing. */
  async dispatchQuietly(event: StatusEvent): Promise<void> {
    await this.dispatch(event).catch((err: unknown) =>
      this.logger.error(`webhooks for ${event.documentId} v${event.version} (${event.status}) not dispatched (the sweep retries): ${String(err)}`),
    );
  }
}
