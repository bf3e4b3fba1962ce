import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditAction, AuditedFinding, DriftKind } from './drift';

/** One recorded finding, as `GET /v1/audit` lists it. */
export interface AuditEvent {
  id: string;
  passId: string;
  kind: DriftKind;
  action: AuditAction;
  namespace: string | null;
  documentId: string | null;
  count: number;
  detail: Record<string, unknown>;
  createdAt: Date;
}

/** Rows concerned by each kind and action over every recorded pass (for metrics). */
export interface AuditCount {
  kind: DriftKind;
  action: AuditAction;
  findings: number;
  rows: number;
}

/** The `audit_events` table: every finding of the drift auditor and what was done about it. */
@Injectable()
export class AuditEventsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async record(passId: string, findings: AuditedFinding[]): Promise<void> {
    if (findings.length === 0) return;
    await this.db.query(
      `INSERT INTO audit_events (pass_id, kind, action, namespace, document_id, count, detail)
       SELECT $1, f.kind, f.action, f.namespace, f."documentId", f.count, f.detail
         FROM jsonb_to_recordset($2::jsonb) AS f(kind text, action text, namespace text, "documentId" uuid, count int, detail jsonb)`,
      [passId, JSON.stringify(findings)],
    );
  }

  /** The most recent events, newest first, of one namespace or all. */
  async recent(namespace: string | null, limit: number): Promise<AuditEvent[]> {
    return this.db.query(
      `SELECT id, pass_id AS "passId", kind, action, namespace, document_id AS "documentId", count, detail, created_at AS "createdAt"
         FROM audit_events WHERE ($1::text IS NULL OR namespace = $1) ORDER BY id DESC LIMIT $2`,
      [namespace, limit],
    );
  }

  async counts(): Promise<AuditCount[]> {
    return this.db.query(
      `SELECT kind, action, count(*)::int AS findings, sum(count)::int AS rows FROM audit_events GROUP BY kind, action ORDER BY kind, action`,
    );
  }

  /** Deletes events older than `days`, at most `limit` per call. */
  async prune(days: number, limit: number): Promise<number> {
    const [, count]: [unknown, number] = await this.db.query(
      `DELETE FROM audit_events WHERE id IN (
         SELECT id FROM audit_events WHERE created_at < now() - make_interval(days => $1) ORDER BY id LIMIT $2)`,
      [days, limit],
    );
    return count;
  }
}
