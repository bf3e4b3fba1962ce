import { UnrecoverableError } from 'bullmq';
import { QueryFailedError } from 'typeorm';
import { isDatabaseUnavailable } from '../common/database-errors';
import { EmbeddingError } from '../embedding/embedding.errors';

/** Pipeline stage where an attempt failed. */
export type IngestStage = 'claim' | 'load' | 'extract' | 'split' | 'embed' | 'write';

/** What went wrong, as a short stable code operators can filter dead letters by. */
export type ErrorClass =
  | 'no_text'
  | 'unreadable_file'
  | 'extract_timeout'
  | 'extract_out_of_memory'
  | 'too_large'
  | 'embedding_rejected'
  | 'embedding_unavailable'
  | 'database_unavailable'
  | 'database_rejected'
  | 'timeout'
  | 'worker_crash'
  | 'internal';

export interface ClassifiedError {
  errorClass: ErrorClass;
  /** True when trying again later may succeed. */
  transient: boolean;
  message: string;
}

/** A failure annotated with its stage, so the attempt history can say where it happened. */
export class StageError extends Error {
  constructor(
    readonly stage: IngestStage,
    readonly failure: unknown,
  ) {
    super(failure instanceof Error ? failure.message : String(failure));
    this.name = 'StageError';
  }
}

/** A document that no retry can ingest (e.g. no text after splitting). */
export class PermanentIngestError extends Error {
  constructor(
    readonly errorClass: ErrorClass,
    message: string,
  ) {
    super(message);
    this.name = 'PermanentIngestError';
  }
}

/**
 * Decides whether an error is worth retrying. Unknown errors count as transient: the
 * attempts limit bounds them, and a bug fixed in between then still ingests the document.
 */
export function classifyError(err: unknown): ClassifiedError {
  const cause = err instanceof StageError ? err.failure : err;
  const message = cause instanceof Error ? cause.message : String(cause);
  if (cause instanceof PermanentIngestError) return { errorClass: cause.errorClass, transient: false, message };
  if (cause instanceof EmbeddingError) {
    return { errorClass: cause.transient ? 'embedding_unavailable' : 'embedding_rejected', transient: cause.transient, message };
  }
  if (cause instanceof UnrecoverableError) return { errorClass: 'internal', transient: false, message };
  const sqlState = cause instanceof QueryFailedError ? errorCode(cause.driverError) ?? '' : '';
  if (sqlState === '57014') return { errorClass: 'timeout', transient: true, message };
  if (isDatabaseUnavailable(cause)) return { errorClass: 'database_unavailable', transient: true, message };
  if (cause instanceof QueryFailedError) {
    // Data (22) and integrity (23) errors: this content cannot be stored as it is.
    if (/^2[23]/.test(sqlState)) return { errorClass: 'database_rejected', transient: false, message };
    return { errorClass: 'database_rejected', transient: true, message };
  }
  if (/timed? ?out|timeout/i.test(message)) return { errorClass: 'timeout', transient: true, message };
  if (/connect|connection|terminat/i.test(message)) return { errorClass: 'database_unavailable', transient: true, message };
  return { errorClass: 'internal', transient: true, message };
}

function errorCode(err: unknown): string | undefined {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/**
 * True when an error says the document itself is gone: a row written for it broke a
 * foreign key to `documents` because it was deleted meanwhile. Its job then ends
 * quietly (stale), as a deleted document's job should, not as a failure.
 */
export function isDocumentGone(err: unknown): boolean {
  const cause = err instanceof StageError ? err.failure : err;
  if (!(cause instanceof QueryFailedError)) return false;
  const driver = cause.driverError as { code?: unknown; detail?: unknown };
  return driver.code === '23503' && typeof driver.detail === 'string' && /not present in table "documents"/.test(driver.detail);
}
