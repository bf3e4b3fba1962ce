import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Bounded retention for the embedding cache: when each entry was last used, and an index
 * that yields the least recently used entries first (ties, such as the rows that exist
 * when this runs, oldest first). Existing rows count as used now: the column's constant
 * default needs no table rewrite, and no entry is pruned for age before it has had a
 * chance to be used again.
 */
export class EmbeddingCacheRetention1764300000600 implements MigrationInterface {
  name = 'EmbeddingCacheRetention1764300000600';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE embedding_cache ADD COLUMN IF NOT EXISTS last_used_at timestamptz NOT NULL DEFAULT now()`);
    await q.query(`CREATE INDEX IF NOT EXISTS embedding_cache_last_used_idx ON embedding_cache (last_used_at, created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS embedding_cache_last_used_idx`);
    await q.query(`ALTER TABLE embedding_cache DROP COLUMN IF EXISTS last_used_at`);
  }
}
