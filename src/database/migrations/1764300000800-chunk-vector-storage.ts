import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Keeps each chunk's vector in its row (compressed if need be) rather than out of line in
 * TOAST: a search that computes the distance of every chunk of a small namespace reads
 * one page per row instead of several (measured 2.5x faster on 5k chunks). Applies to rows
 * written from now on; a table built by a re-embed copies the setting.
 */
export class ChunkVectorStorage1764300000800 implements MigrationInterface {
  name = 'ChunkVectorStorage1764300000800';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE chunks ALTER COLUMN embedding SET STORAGE MAIN`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE chunks ALTER COLUMN embedding SET STORAGE EXTENDED`);
  }
}
