import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the drift auditor found and did: one row per finding (a document, or a group of
 * rows such as one model's cache entries) with the action taken. `document_id` has no
 * foreign key: an orphan's document is gone by definition, and the record must outlive it.
 */
export class AuditEvents1764412300000 implements MigrationInterface {
  name = 'AuditEvents1764412300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_events (
        id bigserial PRIMARY KEY,
        pass_id uuid NOT NULL,
        kind text NOT NULL,
        action text NOT NULL CHECK (action IN ('reported', 'requeued', 'deleted', 'dead_lettered', 'left_to_job')),
        namespace text,
        document_id uuid,
        count integer NOT NULL DEFAULT 1,
        detail jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX audit_events_namespace_idx ON audit_events (namespace, id DESC)`);
    await q.query(`CREATE INDEX audit_events_created_idx ON audit_events (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS audit_events`);
  }
}
