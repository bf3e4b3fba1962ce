import { NamespaceWebhook } from '../namespace-webhooks.repository';
import { WebhookDelivery } from '../webhook-deliveries.repository';

export interface NamespaceWebhookView {
  namespace: string;
  url: string;
  events: string[];
  createdAt: string;
  updatedAt: string;
}

export function toNamespaceWebhookView(w: NamespaceWebhook): NamespaceWebhookView {
  return { namespace: w.namespace, url: w.url, events: w.events, createdAt: w.createdAt.toISOString(), updatedAt: w.updatedAt.toISOString() };
}

/** A delivery as the API shows it; `webhookId` is the `webhook-id` header the receiver saw. */
export interface DeliveryView {
  id: string;
  webhookId: string;
  documentId: string;
  namespace: string;
  version: number;
  eventType: string;
  target: string;
  url: string;
  status: string;
  attempts: number;
  retries: number;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  deliveredAt: string | null;
}

export function toDeliveryView(d: WebhookDelivery): DeliveryView {
  return {
    id: d.id, webhookId: `msg_${d.id}`, documentId: d.documentId, namespace: d.namespace, version: d.version, eventType: d.eventType,
    target: d.target, url: d.url, status: d.status, attempts: d.attempts, retries: d.retries, lastStatusCode: d.lastStatusCode,
    lastError: d.lastError, createdAt: d.createdAt.toISOString(), updatedAt: d.updatedAt.toISOString(), deliveredAt: d.deliveredAt?.toISOString() ?? null,
  };
}
