import { createHmac } from 'node:crypto';

/** The Standard Webhooks headers of one delivery attempt. */
export interface WebhookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * Signs `body` as the Standard Webhooks specification says: `v1,` and the base64
 * HMAC-SHA256 of `id.timestamp.body` under the secret's decoded key. The id stays the same
 * on every retry (receivers dedupe on it); the timestamp is the attempt's, in seconds.
 */
export function signWebhook(key: Buffer, id: string, body: string, now: Date = new Date()): WebhookHeaders {
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` };
}
