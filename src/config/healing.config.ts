import type { EnvReader } from './env-reader';

/** The drift auditor: what it examines per pass, and whether it repairs. */
export interface AuditConfig {
  /** How often one worker replica audits. */
  intervalMs: number;
  /** False: findings are recorded and reported, nothing is changed. */
  repair: boolean;
  /** Rows each scanning check examines per pass (documents or chunks), so a pass stays cheap on a large database. */
  scanRows: number;
  /** Findings each check reports (and repairs) per pass at most. */
  batch: number;
  /** Audit events older than this are deleted. */
  retentionDays: number;
}

/** What bounds a job in time, and how soon a wiped Redis is noticed. */
export interface HealingConfig {
  audit: AuditConfig;
  /** Every ingest attempt ends within `deadlineBaseMs` plus `deadlinePerMbMs` per MB of text. */
  deadlineBaseMs: number;
  deadlinePerMbMs: number;
  /** How often workers check that Redis still holds the marker written under the queue prefix. */
  redisMarkerCheckMs: number;
  /**
   * REDIS_LOSS_SWEEP: a missing marker re-enqueues every unfinished document at once. Off only where
   * one database serves several queue prefixes (the test suite), whose documents are not this queue's.
   */
  redisLossSweep: boolean;
  /** Fault injection for tests only: a worker kills its own process on a document whose text contains this. */
  crashOnText: string | undefined;
}

/** AUDIT_*, JOB_DEADLINE_*, REDIS_MARKER_CHECK_MS, and the test-only FAULT_CRASH_ON_TEXT. */
export function readHealing(r: EnvReader): HealingConfig {
  return {
    audit: {
      intervalMs: r.int('AUDIT_INTERVAL_MS', 300000, 100, 86400000),
      repair: r.bool('AUDIT_REPAIR', true),
      scanRows: r.int('AUDIT_SCAN_ROWS', 5000, 1, 1000000),
      batch: r.int('AUDIT_BATCH', 500, 1, 100000),
      retentionDays: r.int('AUDIT_RETENTION_DAYS', 30, 1, 3650),
    },
    deadlineBaseMs: r.int('JOB_DEADLINE_MS', 300000, 100, 86400000),
    deadlinePerMbMs: r.int('JOB_DEADLINE_PER_MB_MS', 600000, 0, 86400000),
    redisMarkerCheckMs: r.int('REDIS_MARKER_CHECK_MS', 2000, 100, 3600000),
    redisLossSweep: r.bool('REDIS_LOSS_SWEEP', true),
    crashOnText: r.optional('FAULT_CRASH_ON_TEXT'),
  };
}
