import type { EnvReader } from './env-reader';

/** Re-embedding every document into a new embedding generation. */
export interface ReindexConfig {
  /** Documents re-embedded at once by each worker process during a re-embed. */
  concurrency: number;
  /** How often workers look for documents the new generation still lacks (and switch when none). */
  intervalMs: number;
  /** `maintenance_work_mem` for building the new generation's HNSW index (a graph that fits builds far faster). */
  maintenanceWorkMem: string;
}

/** REINDEX_* settings. */
export function readReindex(r: EnvReader): ReindexConfig {
  return {
    concurrency: r.int('REINDEX_CONCURRENCY', 2, 1, 256),
    intervalMs: r.int('REINDEX_INTERVAL_MS', 2000, 50, 3600000),
    maintenanceWorkMem: readMemory(r, 'REINDEX_MAINTENANCE_WORK_MEM', '256MB'),
  };
}

/** A Postgres memory setting such as `256MB` or `1GB`. */
export function readMemory(r: EnvReader, name: string, fallback: string): string {
  const raw = r.optional(name);
  if (raw === undefined) return fallback;
  if (!/^[1-9]\d{0,6}(kB|MB|GB)$/.test(raw)) {
    r.fail(name, 'must be a size such as 64MB or 1GB');
    return fallback;
  }
  return raw;
}
