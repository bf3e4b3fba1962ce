import type { EnvReader } from './env-reader';

/** `POST /v1/documents/batch`. */
export interface BatchConfig {
  /** Most documents one batch may carry (its body must also fit BODY_LIMIT_BYTES). */
  maxDocuments: number;
  /** How single `POST /v1/documents` requests arriving together share one transaction (see AcceptGroups). */
  acceptGroup: { maxDocs: number; windowMs: number };
}

/** BATCH_* settings. */
export function readBatch(r: EnvReader): BatchConfig {
  return {
    maxDocuments: r.int('BATCH_MAX_DOCUMENTS', 1000, 1, 100000),
    acceptGroup: { maxDocs: r.int('ACCEPT_GROUP_MAX_DOCS', 64, 1, 10000), windowMs: r.int('ACCEPT_GROUP_WINDOW_MS', 2, 0, 1000) },
  };
}
