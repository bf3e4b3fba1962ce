/** Longest error message shown to callers. */
const MAX_PUBLIC_MESSAGE = 300;

/**
 * Classes whose messages the service writes itself, for the caller (no text to index,
 * too many chunks, what the embedding provider answered): shown as they are, cut short.
 */
const CALLER_MESSAGES = new Set([
  'no_text',
  'too_large',
  'unreadable_file',
  'extract_timeout',
  'extract_out_of_memory',
  'worker_crash',
  'timeout',
  'embedding_rejected',
  'embedding_unavailable',
]);

/** What callers read for the other classes: the raw text (SQL, driver, stack details) stays in the logs. */
const GENERIC: Record<string, string> = {
  database_unavailable: 'the database was unavailable while processing this document',
  database_rejected: 'the database refused to store this document',
};

/** An attempt's error as callers see it: safe text chosen by its class, never raw internal text. */
export function publicErrorMessage(errorClass: string | null, message: string | null): string | null {
  if (message === null) return null;
  if (errorClass !== null && CALLER_MESSAGES.has(errorClass)) return message.length > MAX_PUBLIC_MESSAGE ? `${message.slice(0, MAX_PUBLIC_MESSAGE)}…` : message;
  return GENERIC[errorClass ?? ''] ?? 'an internal error occurred while processing this document (details are in the service logs)';
}
