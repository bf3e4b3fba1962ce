import { DocumentEntity } from './document.entity';

/** The public JSON shape of a document's status (never its text). */
export interface DocumentView {
  id: string;
  namespace: string;
  externalId: string | null;
  title: string | null;
  metadata: Record<string, unknown>;
  status: string;
  version: number;
  attempts: number;
  chunkCount: number | null;
  lastError: string | null;
  contentSha256: string;
  contentLength: number;
  chunking: { size: number; overlap: number };
  model: string;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  completedAt: string | null;
}

export function toDocumentView(d: DocumentEntity): DocumentView {
  return {
    id: d.id,
    namespace: d.namespace,
    externalId: d.externalId,
    title: d.title,
    metadata: d.metadata,
    status: d.status,
    version: d.version,
    attempts: d.attempts,
    chunkCount: d.chunkCount,
    lastError: d.lastError,
    contentSha256: d.contentSha256,
    contentLength: d.contentLength,
    chunking: { size: d.pipeline.chunkSize, overlap: d.pipeline.chunkOverlap },
    model: d.pipeline.model,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
    startedAt: d.startedAt?.toISOString() ?? null,
    completedAt: d.completedAt?.toISOString() ?? null,
  };
}
