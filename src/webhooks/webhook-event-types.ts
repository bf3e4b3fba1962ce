/** What a webhook can be told about; a namespace webhook chooses among them. */
export const WEBHOOK_EVENT_TYPES = ['document.ready', 'document.failed'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
