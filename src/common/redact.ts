export const REDACTED = '[redacted]';

/**
 * Replaces each secret in `text` with `[redacted]`: for text that comes from outside (an upstream's error body
 * may echo the credential it refused) before it reaches a log, a document's error or a dead letter.
 */
export function redact(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = text;
  for (const s of secrets) if (s !== undefined && s.length >= 8) out = out.split(s).join(REDACTED);
  return out;
}
