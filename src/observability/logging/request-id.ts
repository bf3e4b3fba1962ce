import { randomUUID } from 'node:crypto';

/** Header a caller (or a gateway) sets to correlate its request with our logs; echoed in the answer. */
export const REQUEST_ID_HEADER = 'x-request-id';

// Printable, no spaces or quotes, bounded: it goes into every log line and every job payload.
const ACCEPTED = /^[A-Za-z0-9._:\-/+=@]{1,128}$/;

/** The caller's request id when it is a sensible one, else a new UUID. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const sent = Array.isArray(header) ? header[0] : header;
  return sent !== undefined && ACCEPTED.test(sent) ? sent : randomUUID();
}
