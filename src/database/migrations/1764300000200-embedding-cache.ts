import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Vectors already paid for, keyed by (model, dimension, sha256 of the normalised chunk
 * text), so re-processing a document embeds only chunks whose text changed. The vector
 * column has no fixed dimension (one table serves every model); a check keeps each row
 * consistent with its `dimension`. Never indexed for similarity: looked up by key only.
 */
export class EmbeddingCache1764300000200 implements MigrationInterface {
  name = 'EmbeddingCache1764300000200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS embedding_cache (
        model text NOT NULL,
        dimension integer NOT NULL,
        text_sha256 bytea NOT NULL,
        embedding vector NOT NULL CHECK (vector_dims(embedding) = dimension),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (model, dimension, text_sha256)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS embedding_cache`);
  }
}
