import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Keyword search over chunks. `context` holds the chunk's document title and heading
 * path (null when the chunk was written without one); `content_tsv` is a stored,
 * generated full-text vector over context and content, so it can never drift from the
 * text. Context lexemes carry weight label B and content lexemes label D, which lets
 * queries weigh a match in the title or heading differently without a schema change.
 * The 'english' configuration stems words and drops stop words; the parser keeps
 * identifiers such as `--no-preserve-root`, `ERR_REQUIRE_ESM` or `net.ipv4.ip_forward`
 * whole as well as in parts, so exact-identifier queries still match.
 */
export class ChunkKeywords1764300000100 implements MigrationInterface {
  name = 'ChunkKeywords1764300000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE chunks ADD COLUMN context text`);
    await q.query(`
      ALTER TABLE chunks ADD COLUMN content_tsv tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, coalesce(context, '')), 'B') ||
        setweight(to_tsvector('english'::regconfig, content), 'D')
      ) STORED`);
    await q.query(`CREATE INDEX chunks_content_tsv_gin_idx ON chunks USING gin (content_tsv)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS chunks_content_tsv_gin_idx`);
    await q.query(`ALTER TABLE chunks DROP COLUMN IF EXISTS content_tsv`);
    await q.query(`ALTER TABLE chunks DROP COLUMN IF EXISTS context`);
  }
}
