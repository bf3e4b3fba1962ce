import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhooks: a namespace's registered webhook, a document's callback URL, and every
 * delivery with its outcome. Deliveries outlive their document (no foreign key), so a
 * failed one can still be listed and retried after the document was deleted; one row
 * per (document version, event, target) makes a repeated dispatch harmless.
 */
export class Webhooks1764735100000 implements MigrationInterface {
  name = 'Webhooks1764735100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE namespace_webhooks (
        namespace text PRIMARY KEY,
        url text NOT NULL,
        events text[] NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE document_callbacks (
        document_id uuid PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
        url text NOT NULL
      )`);
    await q.query(`
      CREATE TABLE webhook_deliveries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        document_id uuid NOT NULL,
        namespace text NOT NULL,
        version integer NOT NULL,
        event_type text NOT NULL,
        target text NOT NULL CHECK (target IN ('callback', 'namespace')),
        url text NOT NULL,
        body text NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        retries integer NOT NULL DEFAULT 0,
        last_status_code integer,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        delivered_at timestamptz,
        UNIQUE (document_id, version, event_type, target)
      )`);
    await q.query(`CREATE INDEX webhook_deliveries_status_created ON webhook_deliveries (status, created_at DESC, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE webhook_deliveries`);
    await q.query(`DROP TABLE document_callbacks`);
    await q.query(`DROP TABLE namespace_webhooks`);
  }
}
