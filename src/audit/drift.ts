/** The kinds of drift between the documents table, the vectors and the queues that the auditor looks for. */
export const DRIFT_KINDS = [
  'chunk_count_mismatch',
  'orphan_chunks',
  'foreign_model_chunks',
  'stuck_documents',
  'failed_without_dead_letter',
  'stale_cache_models',
] as const;
export type DriftKind = (typeof DRIFT_KINDS)[number];

/** What the auditor did about a finding. */
export type AuditAction = 'reported' | 'requeued' | 'deleted' | 'dead_lettered' | 'left_to_job';

/** One finding: a document (or, for the cache, one model's entries) and how many rows are off. */
export interface DriftFinding {
  kind: DriftKind;
  namespace: string | null;
  documentId: string | null;
  /** Rows concerned (chunks, cache entries; 1 for a document). */
  count: number;
  detail: Record<string, unknown>;
}

/** A finding and the action taken, as recorded in `audit_events`. */
export interface AuditedFinding extends DriftFinding {
  action: AuditAction;
}

/** Where one scanning check stopped: the next pass continues after it. */
export type ScanCursor = string;
export const SCAN_START: ScanCursor = '00000000-0000-0000-0000-000000000000';

/** One window of a scanning check. `next` is null when the scan reached the end (the next pass starts over). */
export interface ScanWindow {
  findings: DriftFinding[];
  scanned: number;
  next: ScanCursor | null;
}
