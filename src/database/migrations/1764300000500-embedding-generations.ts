import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Embedding generations: which model made the vectors in `chunks` (the active
 * generation), and, while a re-embed runs, the generation being built in `chunks_next`.
 * `spec` holds what a process needs to rebuild that model's embedder (provider, model
 * name, base URL; never secrets), so every process can embed queries with the active
 * model even after its own configuration moved on. `reindex_documents` records which
 * version of each document the building generation holds, and any permanent failure.
 * An existing database gets its current vectors as generation 1; its spec is filled in
 * at the first start whose configured model matches them.
 */
export class EmbeddingGenerations1764300000500 implements MigrationInterface {
  name = 'EmbeddingGenerations1764300000500';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE embedding_generations (
        id serial PRIMARY KEY,
        status text NOT NULL CHECK (status IN ('building', 'active', 'retired', 'cancelled')),
        model text NOT NULL,
        dimension integer NOT NULL,
        spec jsonb,
        -- The generation this one replaces (null for the first).
        previous_id integer REFERENCES embedding_generations(id),
        created_at timestamptz NOT NULL DEFAULT now(),
        activated_at timestamptz,
        finished_at timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX embedding_generations_one_active_uq ON embedding_generations ((1)) WHERE status = 'active'`);
    await q.query(`CREATE UNIQUE INDEX embedding_generations_one_building_uq ON embedding_generations ((1)) WHERE status = 'building'`);
    await q.query(`
      CREATE TABLE reindex_documents (
        generation_id integer NOT NULL REFERENCES embedding_generations(id) ON DELETE CASCADE,
        document_id uuid NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        version integer NOT NULL,
        error text,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (generation_id, document_id)
      )`);
    await q.query(`
      INSERT INTO embedding_generations (status, model, dimension, activated_at)
      SELECT 'active', c.model, a.atttypmod, now()
        FROM (SELECT model FROM chunks LIMIT 1) c
        CROSS JOIN pg_attribute a
       WHERE a.attrelid = 'chunks'::regclass AND a.attname = 'embedding'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS chunks_next`);
    await q.query(`DROP TABLE IF EXISTS reindex_documents`);
    await q.query(`DROP TABLE IF EXISTS embedding_generations`);
  }
}
