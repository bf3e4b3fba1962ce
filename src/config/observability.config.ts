import type { EnvReader } from './env-reader';

export type LogFormat = 'json' | 'pretty';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Logs, metrics and the queue dashboard. */
export interface ObservabilityConfig {
  logLevel: LogLevel;
  /** `json`: one object per line (for log pipelines); `pretty`: readable, for a terminal. */
  logFormat: LogFormat;
  /** How long the documents-by-state gauge reuses its Postgres count, ms (about one scrape interval). */
  documentsRefreshMs: number;
  /** How long queue job counts are reused between scrapes and `GET /v1/queues`, ms. */
  queueCountsCacheMs: number;
  /** Serve the Bull Board dashboard at /admin/queues (API processes only). */
  dashboard: boolean;
  /** The dashboard shows jobs but cannot retry, promote, clean or remove them. */
  dashboardReadOnly: boolean;
}

/** LOG_*, METRICS_* and QUEUE_DASHBOARD* settings. */
export function readObservability(r: EnvReader): ObservabilityConfig {
  return {
    logLevel: r.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    logFormat: r.oneOf('LOG_FORMAT', ['json', 'pretty'] as const, 'json'),
    documentsRefreshMs: r.int('METRICS_DOCUMENTS_REFRESH_MS', 15000, 0, 3600000),
    queueCountsCacheMs: r.int('METRICS_QUEUE_CACHE_MS', 2000, 0, 600000),
    dashboard: r.bool('QUEUE_DASHBOARD', true),
    dashboardReadOnly: r.bool('QUEUE_DASHBOARD_READ_ONLY', true),
  };
}
