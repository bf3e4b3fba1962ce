/**
 * The job catalogue: the one contract between the producer (API) and the consumers
 * (workers). Queue names, job names and each job's payload type live here only, so
 * `add` and `process` cannot disagree.
 */
export const INGEST_QUEUE = 'ingest';

export const IngestJobName = {
  IngestDocument: 'ingest-document',
} as const;
export type IngestJobName = (typeof IngestJobName)[keyof typeof IngestJobName];

/** Payload of `ingest-document`: ids only, never the text, whatever the document's size. */
export interface IngestDocumentPayload {
  documentId: string;
  /** The document version this job was created for; a job for an older version does nothing. */
  version: number;
}

export interface IngestJobPayloads {
  [IngestJobName.IngestDocument]: IngestDocumentPayload;
}

/**
 * BullMQ drops an `add` whose jobId it still holds, which is the dedupe we want for one
 * version; a new version gets a new id. (BullMQ ids may not contain ':'.)
 */
export function ingestJobId(payload: IngestDocumentPayload): string {
  return `doc-${payload.documentId}-v${payload.version}`;
}
