import type { DocumentStatus } from '../documents/document-status';
import type { IngestStage } from '../ingest/ingest-errors';

/**
 * One change of a document's state, as SSE clients and webhooks see it. `stage` is set
 * while processing; `chunksEmbedded`/`chunksTotal` while embedding; `chunkCount` once
 * ready; `error` when an attempt failed (`failed`, or `queued` for the retry).
 */
export interface StatusEvent {
  documentId: string;
  namespace: string;
  version: number;
  status: DocumentStatus;
  stage?: IngestStage;
  chunksEmbedded?: number;
  chunksTotal?: number;
  chunkCount?: number;
  error?: { class: string; message: string; stage: string | null };
  /** ISO time the change happened. */
  at: string;
}

/** A status event with its position in the namespace's history (a Redis stream id, `ms-seq`). */
export interface LoggedStatusEvent {
  id: string;
  event: StatusEvent;
}

/** The states after which nothing more happens to a version. */
export function isFinal(event: Pick<StatusEvent, 'status'>): boolean {
  return event.status === 'ready' || event.status === 'failed';
}

const STREAM_ID = /^(\d{1,20})-(\d{1,20})$/;

export function isStreamId(value: string): boolean {
  return STREAM_ID.test(value);
}

/** Orders two stream ids (`ms-seq`) numerically: negative when `a` comes first. */
export function compareStreamIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt);
  const [bm, bs] = b.split('-').map(BigInt);
  if (am !== bm) return am < bm ? -1 : 1;
  return as === bs ? 0 : as < bs ? -1 : 1;
}
