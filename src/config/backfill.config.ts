import type { EnvReader } from './env-reader';
import { readMemory } from './reindex.config';

/** Backfill mode: bulk imports whose namespace's HNSW index is built once their rows are in. */
export interface BackfillConfig {
  /** How often workers look for a backfilled namespace whose documents are all in, to build its index. */
  intervalMs: number;
  /** How long after the last backfill batch a namespace with no document in flight counts as loaded. */
  quietMs: number;
  /** Most `maintenance_work_mem` an index build may take; each build asks for what its graph needs, up to this. */
  maxMaintenanceWorkMem: string;
}

/** BACKFILL_* settings. */
export function readBackfill(r: EnvReader): BackfillConfig {
  return {
    intervalMs: r.int('BACKFILL_INTERVAL_MS', 1000, 50, 3600000),
    quietMs: r.int('BACKFILL_QUIET_MS', 2000, 0, 3600000),
    maxMaintenanceWorkMem: readMemory(r, 'BACKFILL_MAINTENANCE_WORK_MEM', '1GB'),
  };
}
