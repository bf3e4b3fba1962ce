import { QueryFailedError } from 'typeorm';

// SQLSTATE classes meaning "the server is unreachable or not itself right now":
// connection (08), resources (53), operator intervention (57, e.g. shutdown), system (58),
// and the retryable serialization/deadlock/lock-timeout codes.
const UNAVAILABLE_SQLSTATE = /^(08|53|57P|58|40001|40P01|55P03)/;
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);

function code(err: unknown): string | undefined {
  const c = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof c === 'string' ? c : undefined;
}

/** True when an error means the database is away for now (trying again later may work). */
export function isDatabaseUnavailable(err: unknown): boolean {
  const c = code(err) ?? (err instanceof QueryFailedError ? code(err.driverError) : undefined);
  if (c !== undefined && (NETWORK_CODES.has(c) || UNAVAILABLE_SQLSTATE.test(c))) return true;
  const message = err instanceof Error ? err.message : '';
  return /Connection terminated|connection timeout|Client has encountered a connection error|terminating connection/i.test(message);
}
