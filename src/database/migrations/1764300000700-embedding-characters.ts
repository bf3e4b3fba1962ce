import { MigrationInterface, QueryRunner } from 'typeorm';

/** Characters sent to the embedding provider, the unit of cost where no tokenizer is known. */
export class EmbeddingCharacters1764300000700 implements MigrationInterface {
  name = 'EmbeddingCharacters1764300000700';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE documents
      ADD COLUMN embedding_characters bigint NOT NULL DEFAULT 0,
      ADD COLUMN embedding_characters_total bigint NOT NULL DEFAULT 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE documents DROP COLUMN embedding_characters, DROP COLUMN embedding_characters_total`);
  }
}
