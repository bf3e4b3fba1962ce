import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What retries, dead letters and idempotent POSTs need: the history of every attempt,
 * the dead-letter bookkeeping on the document, and stored answers to Idempotency-Keys.
 */
export class Reliability1764300000300 implements MigrationInterface {
  name = 'Reliability1764300000300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE document_attempts (
        id bigserial PRIMARY KEY,
        document_id uuid NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        version integer NOT NULL,
        attempt integer NOT NULL,
        started_at timestamptz NOT NULL,
        finished_at timestamptz NOT NULL DEFAULT now(),
        outcome text NOT NULL CHECK (outcome IN ('ready', 'retry', 'failed', 'stale')),
        stage text,
        error_class text,
        error_message text
      )`);
    await q.query(`CREATE INDEX document_attempts_document_idx ON document_attempts (document_id, id)`);
    await q.query(`ALTER TABLE documents ADD COLUMN last_error_class text`);
    await q.query(`ALTER TABLE documents ADD COLUMN failed_stage text`);
    // A failed document is a dead letter until it is retried or discarded.
    await q.query(`ALTER TABLE documents ADD COLUMN dead_letter_discarded_at timestamptz`);
    await q.query(
      `CREATE INDEX documents_dead_letters_idx ON documents (updated_at DESC, id DESC) WHERE status = 'failed' AND dead_letter_discarded_at IS NULL`,
    );
    await q.query(`
      CREATE TABLE idempotency_keys (
        key text PRIMARY KEY,
        request_sha256 char(64) NOT NULL,
        status_code integer NOT NULL,
        response jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS idempotency_keys`);
    await q.query(`DROP INDEX IF EXISTS documents_dead_letters_idx`);
    await q.query(`ALTER TABLE documents DROP COLUMN IF EXISTS dead_letter_discarded_at`);
    await q.query(`ALTER TABLE documents DROP COLUMN IF EXISTS failed_stage`);
    await q.query(`ALTER TABLE documents DROP COLUMN IF EXISTS last_error_class`);
    await q.query(`DROP TABLE IF EXISTS document_attempts`);
  }
}
