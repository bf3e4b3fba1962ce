/**
 * Lifecycle of a document: `queued` until a worker claims it, `processing` while it is split and embedded, then
 * `ready` (searchable) or `failed` (a dead letter). A new version, a reprocess or a dead-letter retry queues it
 * again; a failed attempt with retries left sends it back to `queued`.
 */
export const DOCUMENT_STATUSES = ['queued', 'processing', 'ready', 'failed'] as const;
export type DocumentStatus = (typeof DOCUMENT_STATUSES)[number];
