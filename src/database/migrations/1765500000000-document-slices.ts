import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Large documents embedded in slices. A run is one fan-out of a document version: its
 * chunks are staged here with their text and, once a slice job embedded them, their
 * vectors; search never reads these tables. When every slice is embedded, one
 * transaction moves the staged chunks into the searchable table and marks the document
 * ready. `run` numbers the fan-outs of a version, so a flow re-created after a Redis
 * loss gets job ids of its own. A staged vector column has no fixed dimension: the
 * model that embedded it is recorded with it (`generation_id`).
 */
export class DocumentSlices1765500000000 implements MigrationInterface {
  name = 'DocumentSlices1765500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE document_slice_runs (
        document_id uuid PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
        version integer NOT NULL,
        run integer NOT NULL DEFAULT 1,
        namespace text NOT NULL,
        attempt integer NOT NULL,
        chunks_total integer NOT NULL,
        chunks_embedded integer NOT NULL DEFAULT 0,
        slices_total integer NOT NULL,
        started_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE document_slices (
        document_id uuid NOT NULL REFERENCES document_slice_runs(document_id) ON DELETE CASCADE,
        slice integer NOT NULL,
        chunk_from integer NOT NULL,
        chunk_to integer NOT NULL,
        embedded_at timestamptz,
        tokens bigint NOT NULL DEFAULT 0,
        characters bigint NOT NULL DEFAULT 0,
        embedded_texts integer NOT NULL DEFAULT 0,
        cached_texts integer NOT NULL DEFAULT 0,
        tokens_estimated boolean NOT NULL DEFAULT false,
        PRIMARY KEY (document_id, slice)
      )`);
    await q.query(`
      CREATE TABLE staged_chunks (
        document_id uuid NOT NULL REFERENCES document_slice_runs(document_id) ON DELETE CASCADE,
        chunk_index integer NOT NULL,
        content text NOT NULL,
        content_sha256 char(64) NOT NULL,
        context text,
        metadata jsonb NOT NULL,
        embedding vector,
        model text,
        generation_id integer,
        PRIMARY KEY (document_id, chunk_index)
      )`);
    // Text is read back a slice at a time and once more when published: no need to compress it.
    await q.query(`ALTER TABLE staged_chunks ALTER COLUMN content SET STORAGE EXTERNAL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE staged_chunks`);
    await q.query(`DROP TABLE document_slices`);
    await q.query(`DROP TABLE document_slice_runs`);
  }
}
