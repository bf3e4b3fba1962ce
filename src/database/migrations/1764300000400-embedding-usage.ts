import { MigrationInterface, QueryRunner } from 'typeorm';

/** What embedding each document cost: tokens sent to the provider and texts served from the cache. */
export class EmbeddingUsage1764300000400 implements MigrationInterface {
  name = 'EmbeddingUsage1764300000400';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE documents
      ADD COLUMN embedding_tokens bigint NOT NULL DEFAULT 0,
      ADD COLUMN embedding_tokens_total bigint NOT NULL DEFAULT 0,
      ADD COLUMN embedded_texts integer NOT NULL DEFAULT 0,
      ADD COLUMN cached_texts integer NOT NULL DEFAULT 0,
      ADD COLUMN tokens_estimated boolean NOT NULL DEFAULT false`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE documents
      DROP COLUMN embedding_tokens, DROP COLUMN embedding_tokens_total, DROP COLUMN embedded_texts,
      DROP COLUMN cached_texts, DROP COLUMN tokens_estimated`);
  }
}
