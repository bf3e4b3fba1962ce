import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Backfill mode: a namespace may get an HNSW index of its own, built once over its rows
 * after a bulk import instead of maintained row by row. `namespace_indexes` lists those
 * namespaces and where each stands (loading its import, building its index, ready).
 * `chunks.own_index` marks the rows of such namespaces: the shared HNSW index now skips
 * them (`WHERE NOT own_index`), the namespace's own index holds them
 * (`WHERE own_index AND namespace = '…'`). A trigger sets the flag from
 * `namespace_indexes` on every insert, so every writer (ingest, re-embed, bulk COPY)
 * agrees without knowing about backfills. The shared index is rebuilt once here to take
 * its predicate (no existing row is flagged, so it holds the same rows).
 */
export class NamespaceIndexes1765200000000 implements MigrationInterface {
  name = 'NamespaceIndexes1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE namespace_indexes (
        namespace text PRIMARY KEY,
        state text NOT NULL CHECK (state IN ('loading', 'building', 'ready')),
        index_name text NOT NULL UNIQUE,
        started_at timestamptz NOT NULL DEFAULT now(),
        -- The last backfill batch accepted: the index waits until batches stop arriving.
        last_batch_at timestamptz NOT NULL DEFAULT now(),
        build_started_at timestamptz,
        built_at timestamptz,
        build_ms integer,
        rows_indexed bigint,
        maintenance_work_mem text,
        last_error text
      )`);
    await q.query(`
      CREATE FUNCTION chunks_set_own_index() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.own_index := EXISTS (SELECT 1 FROM namespace_indexes WHERE namespace = NEW.namespace);
        RETURN NEW;
      END $$`);
    // A re-embed in progress keeps its table in step (the switch renames it to chunks).
    for (const table of await this.chunkTables(q)) {
      await q.query(`ALTER TABLE ${table} ADD COLUMN own_index boolean NOT NULL DEFAULT false`);
      await q.query(`CREATE TRIGGER ${table}_own_index BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION chunks_set_own_index()`);
    }
    const [{ def }]: Array<{ def: string }> = await q.query(`SELECT pg_get_indexdef('chunks_embedding_hnsw_idx'::regclass) AS def`);
    await q.query(def.replace('INDEX chunks_embedding_hnsw_idx ON', 'INDEX chunks_embedding_hnsw_shared_idx ON') + ' WHERE NOT own_index');
    await q.query(`DROP INDEX chunks_embedding_hnsw_idx`);
    await q.query(`ALTER INDEX chunks_embedding_hnsw_shared_idx RENAME TO chunks_embedding_hnsw_idx`);
  }

  async down(q: QueryRunner): Promise<void> {
    const owned: Array<{ index_name: string }> = await q.query(`SELECT index_name FROM namespace_indexes`);
    for (const { index_name } of owned) await q.query(`DROP INDEX IF EXISTS "${index_name.replace(/"/g, '""')}"`);
    const [{ def }]: Array<{ def: string }> = await q.query(`SELECT pg_get_indexdef('chunks_embedding_hnsw_idx'::regclass) AS def`);
    await q.query(`DROP INDEX chunks_embedding_hnsw_idx`);
    await q.query(def.replace(/ WHERE .*$/, ''));
    for (const table of await this.chunkTables(q)) {
      await q.query(`DROP TRIGGER IF EXISTS ${table}_own_index ON ${table}`);
      await q.query(`ALTER TABLE ${table} DROP COLUMN own_index`);
    }
    await q.query(`DROP FUNCTION chunks_set_own_index()`);
    await q.query(`DROP TABLE namespace_indexes`);
  }

  private async chunkTables(q: QueryRunner): Promise<string[]> {
    const [{ next }]: Array<{ next: string | null }> = await q.query(`SELECT to_regclass('chunks_next')::text AS next`);
    return next === null ? ['chunks'] : ['chunks', 'chunks_next'];
  }
}
