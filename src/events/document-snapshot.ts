import type { DocumentEntity } from '../documents/document.entity';
import type { StatusEvent } from './status-event';

/** A document's stored state as a status event: what a client connecting now is told first. */
export function snapshotEvent(doc: DocumentEntity): StatusEvent {
  return {
    documentId: doc.id,
    namespace: doc.namespace,
    version: doc.version,
    status: doc.status,
    ...(doc.status === 'ready' && doc.chunkCount !== null ? { chunkCount: doc.chunkCount } : {}),
    ...(doc.status === 'failed' && doc.lastError !== null
      ? { error: { class: doc.lastErrorClass ?? 'unknown', message: doc.lastError, stage: doc.failedStage } }
      : {}),
    at: doc.updatedAt.toISOString(),
  };
}
