import { MigrationInterface, QueryRunner } from 'typeorm';
import { loadConfig } from '../../config/app-config';

/**
 * Documents, their text (kept apart so jobs and status reads never carry it) and the
 * chunk vectors. The vector column's dimension is the configured embedding dimension at
 * the time the schema is created; a later model of another dimension gets a new generation
 * (see EmbeddingGenerations), and an empty table is resized.
 */
export class InitialSchema1764300000000 implements MigrationInterface {
  name = 'InitialSchema1764300000000';

  async up(q: QueryRunner): Promise<void> {
    const dimension = loadConfig().embedding.dimension;
    await q.query(`CREATE EXTENSION IF NOT EXISTS vector`);
    await q.query(`
      CREATE TABLE documents (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        namespace text NOT NULL,
        external_id text,
        title text,
        metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
        content_sha256 char(64) NOT NULL,
        content_length integer NOT NULL,
        pipeline jsonb NOT NULL,
        pipeline_hash char(16) NOT NULL,
        status text NOT NULL CHECK (status IN ('queued', 'processing', 'ready', 'failed')),
        version integer NOT NULL DEFAULT 1,
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        chunk_count integer,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        completed_at timestamptz
      )`);
    await q.query(
      `CREATE UNIQUE INDEX documents_namespace_external_id_uq ON documents (namespace, external_id) WHERE external_id IS NOT NULL`,
    );
    // Newest-first pages, optionally by namespace and status; id breaks ties for the cursor.
    await q.query(`CREATE INDEX documents_namespace_created_idx ON documents (namespace, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX documents_created_idx ON documents (created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX documents_status_updated_idx ON documents (status, updated_at)`);
    await q.query(`
      CREATE TABLE document_contents (
        document_id uuid PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
        version integer NOT NULL,
        content text NOT NULL
      )`);
    await q.query(`
      CREATE TABLE chunks (
        id uuid PRIMARY KEY,
        document_id uuid NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        namespace text NOT NULL,
        chunk_index integer NOT NULL,
        content text NOT NULL,
        content_sha256 char(64) NOT NULL,
        char_count integer NOT NULL,
        metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
        model text NOT NULL,
        embedding vector(${dimension}) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (document_id, chunk_index)
      )`);
    await q.query(`CREATE INDEX chunks_embedding_hnsw_idx ON chunks USING hnsw (embedding vector_cosine_ops)`);
    await q.query(`CREATE INDEX chunks_namespace_idx ON chunks (namespace)`);
    await q.query(`CREATE INDEX chunks_metadata_gin_idx ON chunks USING gin (metadata jsonb_path_ops)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS chunks`);
    await q.query(`DROP TABLE IF EXISTS document_contents`);
    await q.query(`DROP TABLE IF EXISTS documents`);
  }
}
