import type { EnvReader } from './env-reader';

/** `POST /v1/documents/batch`. */
export interface BatchConfig {
  /** Most documents one batch may carry (its body must also fit BODY_LIMIT_BYTES). */
  maxDocuments: number;
}

/** BATCH_* settings. */
export function readBatch(r: EnvReader): BatchConfig {
  return { maxDocuments: r.int('BATCH_MAX_DOCUMENTS', 1000, 1, 100000) };
}
