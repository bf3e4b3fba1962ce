import { QueryFailedError } from 'typeorm';

/**
 * True when the database is there but too busy for this request now: a statement or
 * lock timeout, or no pooled connection free in time. Worth repeating shortly (503), not
 * a client mistake and not a bug.
 */
export function isDatabaseBusy(err: unknown): boolean {
  const driver = err instanceof QueryFailedError ? (err.driverError as unknown) : err;
  const code = typeof driver === 'object' && driver !== null ? (driver as { code?: unknown }).code : undefined;
  if (code === '57014' || code === '55P03') return true;
  const message = err instanceof Error ? err.message : '';
  return /timeout exceeded when trying to connect|canceling statement due to statement timeout/i.test(message);
}
