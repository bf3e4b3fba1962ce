import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Uploaded files: the original bytes as numbered parts (streamed in and out, never one
 * value), and on each document where it came from (`source`). A blob is staged while its
 * upload streams in (`document_id` null) and belongs to its document once recorded.
 */
export class FileUploads1764931000000 implements MigrationInterface {
  name = 'FileUploads1764931000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE file_blobs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        document_id uuid UNIQUE REFERENCES documents(id) ON DELETE CASCADE,
        bytes bigint NOT NULL DEFAULT 0,
        sha256 char(64),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE file_blob_parts (
        blob_id uuid NOT NULL REFERENCES file_blobs(id) ON DELETE CASCADE,
        seq integer NOT NULL,
        data bytea NOT NULL,
        PRIMARY KEY (blob_id, seq)
      )`);
    // PDF and DOCX are compressed already: trying again costs CPU for nothing.
    await q.query(`ALTER TABLE file_blob_parts ALTER COLUMN data SET STORAGE EXTERNAL`);
    await q.query(`ALTER TABLE documents ADD COLUMN source jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE documents DROP COLUMN source`);
    await q.query(`DROP TABLE file_blob_parts`);
    await q.query(`DROP TABLE file_blobs`);
  }
}
