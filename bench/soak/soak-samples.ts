import { readFileSync } from 'node:fs';

/** One sample of the resources the soak watches. */
export interface SoakSample {
  atMs: number;
  /** Resident memory per process slot (api, worker0, ...), MB. */
  rssMb: Record<string, number>;
  /** Sessions open on the soak's database (the harness's own excluded). */
  pgConnections: number;
  redisMemoryMb: number | null;
  redisKeys: number | null;
}

/** Resident memory of a process in MB, or null if it is gone. */
export function rssMb(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/**
 * Growth of a series over the run: the median of its last third over the median of its
 * middle third (the first third is warm-up: caches fill, the JIT settles). 1 is flat.
 */
export function growth(values: number[]): number {
  if (values.length < 6) return 1;
  const third = Math.floor(values.length / 3);
  const median = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)];
  };
  const middle = median(values.slice(third, 2 * third));
  const last = median(values.slice(2 * third));
  return middle === 0 ? (last === 0 ? 1 : Infinity) : last / middle;
}
