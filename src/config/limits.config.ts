import type { EnvReader } from './env-reader';

/** Bounds on what one caller's request or document may cost the service. */
export interface LimitsConfig {
  /** Headers must arrive within this time (slow-header attacks hold a socket otherwise). */
  httpHeadersTimeoutMs: number;
  /** A whole request, body included, must arrive within this time. */
  httpRequestTimeoutMs: number;
  /** A socket with no traffic for this long is closed (a stalled body frees its socket). */
  httpIdleTimeoutMs: number;
  /** Open connections per process; more are refused at once. */
  httpMaxConnections: number;
  /** Most chunks one document may make; a document over it fails as `too_large`. */
  maxChunksPerDocument: number;
  /** Statement timeout of searches, far below the general one. */
  searchStatementTimeoutMs: number;
  /** Searches using database connections at once per process, so other routes keep the rest of the pool; 0: half of PG_POOL_SIZE. */
  searchMaxConcurrency: number;
  /** How long a search waits for its turn before answering 503. */
  searchQueueTimeoutMs: number;
  /** Characters of content, context and metadata one search answer may carry; results past it are left out. */
  searchMaxResponseChars: number;
}

/** HTTP_* timeouts and connection cap, MAX_CHUNKS_PER_DOCUMENT, SEARCH_* cost bounds. */
export function readLimits(r: EnvReader): LimitsConfig {
  return {
    httpHeadersTimeoutMs: r.int('HTTP_HEADERS_TIMEOUT_MS', 10000, 100, 600000),
    httpRequestTimeoutMs: r.int('HTTP_REQUEST_TIMEOUT_MS', 60000, 100, 3600000),
    httpIdleTimeoutMs: r.int('HTTP_IDLE_TIMEOUT_MS', 15000, 100, 3600000),
    httpMaxConnections: r.int('HTTP_MAX_CONNECTIONS', 1000, 1, 1000000),
    maxChunksPerDocument: r.int('MAX_CHUNKS_PER_DOCUMENT', 10000, 1, 10000000),
    searchStatementTimeoutMs: r.int('SEARCH_STATEMENT_TIMEOUT_MS', 5000, 100, 600000),
    searchMaxConcurrency: r.int('SEARCH_MAX_CONCURRENCY', 0, 0, 10000),
    searchQueueTimeoutMs: r.int('SEARCH_QUEUE_TIMEOUT_MS', 2000, 0, 600000),
    searchMaxResponseChars: r.int('SEARCH_MAX_RESPONSE_CHARS', 2000000, 10000, 1000000000),
  };
}
