/**
 * The job catalogue: the one contract between the producer (API) and the consumers
 * (workers). Queue names, job names and each job's payload type live here only, so
 * `add` and `process` cannot disagree.
 */
export const INGEST_QUEUE = 'ingest';
/** Copies of jobs that failed for good, for inspection; Postgres stays the source of truth. */
export const DEAD_LETTER_QUEUE = 'ingest-dlq';

/** Re-embedding of ready documents into a new embedding generation (see GET /v1/reindex). */
export const REINDEX_QUEUE = 'ingest-reindex';

/** Signed webhook deliveries: a slow or failing receiver never holds up ingestion. */
export const WEBHOOK_QUEUE = 'ingest-webhooks';

export const IngestJobName = {
  IngestDocument: 'ingest-document',
  EmbedSlice: 'embed-slice',
  PublishSlices: 'publish-slices',
  DeadLetter: 'dead-letter',
  ReindexDocument: 'reindex-document',
  DeliverWebhook: 'deliver-webhook',
} as const;
export type IngestJobName = (typeof IngestJobName)[keyof typeof IngestJobName];

/** Payload of `ingest-document`: ids only, never the text, whatever the document's size. */
export interface IngestDocumentPayload {
  documentId: string;
  /** The document version this job was created for; a job for an older version does nothing. */
  version: number;
  /** The request that created this version, so the worker's log lines about it carry the same id. */
  requestId?: string;
}

/**
 * Payload of `embed-slice`, a child job of a large document's flow: embed the staged
 * chunks of slice `slice` of fan-out `run` (their text is in Postgres, never here).
 */
export interface EmbedSlicePayload extends IngestDocumentPayload {
  run: number;
  slice: number;
}

/**
 * Payload of `publish-slices`, the parent job of a large document's flow, run once every
 * slice is embedded: moves the staged chunks into search and marks the document ready.
 */
export interface PublishSlicesPayload extends IngestDocumentPayload {
  run: number;
}

/** Payload of a dead letter: the original payload and why it failed. */
export interface DeadLetterPayload {
  original: IngestDocumentPayload;
  namespace: string;
  errorClass: string;
  error: string;
  stage: string | null;
  attempts: number;
  failedAt: string;
}

/**
 * Payload of `reindex-document`: copy the chunks of this version of a ready document
 * into the building generation, embedded with its model. Nothing is written if the
 * document has moved on or the generation is no longer building.
 */
export interface ReindexDocumentPayload {
  generationId: number;
  documentId: string;
  version: number;
}

/** Each queue's jobs: a job's name fixes its payload type (see QueueGateway). */
export interface IngestQueueJobs {
  [IngestJobName.IngestDocument]: IngestDocumentPayload;
}
export interface DeadLetterQueueJobs {
  [IngestJobName.DeadLetter]: DeadLetterPayload;
}
/** Payload of `deliver-webhook`: the delivery row holds the URL and the exact body to sign. */
export interface DeliverWebhookPayload {
  deliveryId: string;
}
export interface WebhookQueueJobs {
  [IngestJobName.DeliverWebhook]: DeliverWebhookPayload;
}
export interface ReindexQueueJobs {
  [IngestJobName.ReindexDocument]: ReindexDocumentPayload;
}

/**
 * BullMQ drops an `add` whose jobId it still holds, which is the dedupe we want for one
 * version; a new version gets a new id. (BullMQ ids may not contain ':'.)
 */
export function ingestJobId(payload: IngestDocumentPayload, retry = 0): string {
  const base = `doc-${payload.documentId}-v${payload.version}`;
  return retry > 0 ? `${base}-r${retry}` : base;
}

/** The parent job of fan-out `run` of a version. */
export function publishSlicesJobId(payload: PublishSlicesPayload): string {
  return `slices-${payload.documentId}-v${payload.version}-r${payload.run}`;
}

/** One child job per slice of fan-out `run`. */
export function embedSliceJobId(payload: EmbedSlicePayload): string {
  return `slice-${payload.documentId}-v${payload.version}-r${payload.run}-s${payload.slice}`;
}

/** One dead letter per document version. */
export function deadLetterJobId(payload: IngestDocumentPayload): string {
  return `dead-${payload.documentId}-v${payload.version}`;
}

/** One re-embed job per generation and document version. */
export function reindexJobId(payload: ReindexDocumentPayload): string {
  return `reindex-g${payload.generationId}-${payload.documentId}-v${payload.version}`;
}

/** One job per delivery and manual retry (a retried delivery gets a new job, so BullMQ does not drop it). */
export function webhookJobId(deliveryId: string, retry: number): string {
  return `webhook-${deliveryId}-r${retry}`;
}
