import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { ACTIVE_CHUNKS, BUILDING_CHUNKS, ChunkTable, assertIndexable } from './generation';

/** Longest a switch or a cancel waits for a table lock before giving up (and trying again later). */
const DDL_LOCK_TIMEOUT = '5s';
/** Held (per session) by the one process building a deferred HNSW index (a re-embed's, a backfilled namespace's). */
export const INDEX_BUILD_LOCK = 7_350_517_002;
/** pg_get_indexdef's text for an HNSW index. */
const HNSW = `pg_get_indexdef(i.indexrelid) LIKE '% USING hnsw %'`;

type Runner = Pick<EntityManager | QueryRunner, 'query'>;

/** The name an index or constraint of table `from` takes on table `to` (chunks_pkey ↔ chunks_next_pkey). */
export function renamedFor(name: string, from: ChunkTable, to: ChunkTable): string {
  return name.startsWith(`${from}_`) ? `${to}${name.slice(from.length)}` : `${to}_${name}`;
}

/** A quoted SQL identifier. */
export const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** An index definition of table `from` rewritten to create `newName` on table `to`. */
export function indexDefFor(def: string, name: string, newName: string, to: ChunkTable, concurrently: boolean): string {
  const head = concurrently ? 'INDEX CONCURRENTLY' : 'INDEX';
  return def
    .replace(/ INDEX ("(?:[^"]|"")+"|\S+) ON /, ` ${head} ${ident(newName)} ON `)
    .replace(/ ON (ONLY )?([a-z_]+\.)?[a-z_]+ USING /, ` ON ${to} USING `);
}

/**
 * The tables of the live generations: `chunks` (active) and, during a re-embed,
 * `chunks_next` (building), and the DDL that creates, indexes, promotes and drops the
 * latter. `chunks_next` copies `chunks` from the catalogue (columns, constraints,
 * indexes), so it follows future migrations.
 */
@Injectable()
export class ChunkTables {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Dimension of `chunks.embedding` from the schema, or null if the table is missing. */
  async activeColumnDimension(em: Runner = this.db): Promise<number | null> {
    const rows: Array<{ dim: number }> = await em.query(
      `SELECT atttypmod AS dim FROM pg_attribute WHERE attrelid = to_regclass('chunks') AND attname = 'embedding' AND NOT attisdropped`,
    );
    return rows.length > 0 ? Number(rows[0].dim) : null;
  }

  async hasChunks(em: Runner): Promise<boolean> {
    return (await em.query(`SELECT 1 FROM chunks LIMIT 1`)).length > 0;
  }

  /** Resizes the empty `chunks` table's vector column (a new deployment configured for another dimension). */
  async resizeEmptyActive(em: EntityManager, dimension: number): Promise<void> {
    assertIndexable(dimension);
    await em.query(`LOCK TABLE chunks IN ACCESS EXCLUSIVE MODE`);
    if (await this.hasChunks(em)) throw new Error('chunks is not empty');
    await this.resizeVector(em, ACTIVE_CHUNKS, dimension);
  }

  /**
   * Gives `table`'s vector column `dimension`, keeping the storage `chunks` has for it: a new
   * column type brings the type's own storage (out of line), which would undo the
   * chunk-vector-storage migration for every row written after a model change.
   */
  private async resizeVector(em: EntityManager, table: ChunkTable, dimension: number): Promise<void> {
    const [{ storage }]: Array<{ storage: string }> = await em.query(
      `SELECT CASE attstorage WHEN 'p' THEN 'PLAIN' WHEN 'm' THEN 'MAIN' WHEN 'e' THEN 'EXTERNAL' ELSE 'EXTENDED' END AS storage
         FROM pg_attribute WHERE attrelid = 'chunks'::regclass AND attname = 'embedding'`,
    );
    await em.query(`ALTER TABLE ${table} ALTER COLUMN embedding TYPE vector(${Math.trunc(dimension)})`);
    await em.query(`ALTER TABLE ${table} ALTER COLUMN embedding SET STORAGE ${storage}`);
  }

  /**
   * Creates an empty `chunks_next` like `chunks`, its vector column sized `dimension`,
   * with its constraints and indexes except HNSW: a graph built over the loaded rows
   * (`buildNextIndexes`) is far faster than one maintained row by row.
   */
  async createNext(em: EntityManager, dimension: number): Promise<void> {
    assertIndexable(dimension);
    await em.query(`DROP TABLE IF EXISTS chunks_next`);
    await em.query(`CREATE TABLE chunks_next (LIKE chunks INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING CONSTRAINTS INCLUDING STORAGE)`);
    await this.resizeVector(em, BUILDING_CHUNKS, dimension);
    const constraints: Array<{ name: string; def: string }> = await em.query(
      `SELECT conname AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint
        WHERE conrelid = 'chunks'::regclass AND contype IN ('p', 'u', 'f') ORDER BY conname`,
    );
    for (const c of constraints) {
      await em.query(`ALTER TABLE chunks_next ADD CONSTRAINT ${ident(renamedFor(c.name, ACTIVE_CHUNKS, BUILDING_CHUNKS))} ${c.def}`);
    }
    // Indexes behind a constraint came with it.
    const indexes = await this.indexes(em, `NOT ${HNSW} AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)`);
    for (const { name, def } of indexes) {
      await em.query(indexDefFor(def, name, renamedFor(name, ACTIVE_CHUNKS, BUILDING_CHUNKS), BUILDING_CHUNKS, false));
    }
    // Triggers (such as the one flagging rows of namespaces with an index of their own) go along too.
    for (const { name, def } of await this.triggers(em, ACTIVE_CHUNKS)) {
      await em.query(
        def
          .replace(/ TRIGGER ("(?:[^"]|"")+"|\S+) /, ` TRIGGER ${ident(renamedFor(name, ACTIVE_CHUNKS, BUILDING_CHUNKS))} `)
          .replace(/ ON ([a-z_]+\.)?[a-z_]+ /, ` ON ${BUILDING_CHUNKS} `),
      );
    }
  }

  /** True when `chunks_next` has a valid copy of every HNSW index of `chunks`. */
  async nextIndexesReady(em: Runner = this.db): Promise<boolean> {
    const [row]: Array<{ wanted: number; built: number }> = await em.query(
      `SELECT (SELECT count(*) FROM pg_index i WHERE i.indrelid = 'chunks'::regclass AND ${HNSW})::int AS wanted,
              (SELECT count(*) FROM pg_index i WHERE i.indrelid = to_regclass('chunks_next') AND i.indisvalid AND ${HNSW})::int AS built`,
    );
    return row.built >= row.wanted;
  }

  /**
   * Builds the HNSW indexes of `chunks_next` without blocking the writes that still
   * arrive: CREATE INDEX CONCURRENTLY, on a connection of its own with no statement
   * timeout and `maintenanceWorkMem`. One process at a time; false if another is building them.
   */
  async buildNextIndexes(maintenanceWorkMem: string): Promise<boolean> {
    const qr = this.db.createQueryRunner();
    await qr.connect();
    try {
      const [{ locked }]: Array<{ locked: boolean }> = await qr.query('SELECT pg_try_advisory_lock($1) AS locked', [INDEX_BUILD_LOCK]);
      if (!locked) return false;
      try {
        await qr.query('SET statement_timeout = 0');
        await qr.query(`SET maintenance_work_mem = '${maintenanceWorkMem.replace(/[^0-9A-Za-z]/g, '')}'`);
        for (const { name, def } of await this.indexes(qr, HNSW)) {
          const target = renamedFor(name, ACTIVE_CHUNKS, BUILDING_CHUNKS);
          const [existing]: Array<{ valid: boolean }> = await qr.query(
            `SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = to_regclass($1)`,
            [ident(target)],
          );
          if (existing?.valid) continue;
          // A build that died half-way leaves an invalid index behind.
          if (existing) await qr.query(`DROP INDEX CONCURRENTLY IF EXISTS ${ident(target)}`);
          await qr.query(indexDefFor(def, name, target, BUILDING_CHUNKS, true));
        }
        return true;
      } finally {
        await qr.query('RESET statement_timeout; RESET maintenance_work_mem').catch(() => undefined);
        await qr.query('SELECT pg_advisory_unlock($1)', [INDEX_BUILD_LOCK]).catch(() => undefined);
      }
    } finally {
      await qr.release();
    }
  }

  /** Stops an index build of `chunks_next` in any process: it would hold the table until it ends, possibly hours later. */
  async stopIndexBuild(em: EntityManager): Promise<void> {
    await em.query(
      `SELECT pg_cancel_backend(l.pid) FROM pg_locks l
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
          AND l.classid::bigint = ($1::bigint >> 32) AND l.objid::bigint = ($1::bigint & 4294967295)`,
      [INDEX_BUILD_LOCK],
    );
  }

  /** In the switch's transaction: `chunks_next` replaces `chunks`, its indexes and constraints taking the canonical names. */
  async promoteNext(em: EntityManager): Promise<void> {
    await this.lockTables(em, 'documents, chunks, chunks_next');
    await em.query(`DROP TABLE chunks`);
    await em.query(`ALTER TABLE chunks_next RENAME TO chunks`);
    // Renaming an index renames the primary key or unique constraint it backs; foreign keys have no index.
    const foreignKeys: Array<{ name: string }> = await em.query(
      `SELECT conname AS name FROM pg_constraint WHERE conrelid = 'chunks'::regclass AND contype = 'f'`,
    );
    for (const { name } of foreignKeys.filter((k) => k.name.startsWith(`${BUILDING_CHUNKS}_`))) {
      await em.query(`ALTER TABLE chunks RENAME CONSTRAINT ${ident(name)} TO ${ident(renamedFor(name, BUILDING_CHUNKS, ACTIVE_CHUNKS))}`);
    }
    for (const { name } of (await this.indexes(em, 'true')).filter((i) => i.name.startsWith(`${BUILDING_CHUNKS}_`))) {
      await em.query(`ALTER INDEX ${ident(name)} RENAME TO ${ident(renamedFor(name, BUILDING_CHUNKS, ACTIVE_CHUNKS))}`);
    }
    for (const { name } of (await this.triggers(em, ACTIVE_CHUNKS)).filter((t) => t.name.startsWith(`${BUILDING_CHUNKS}_`))) {
      await em.query(`ALTER TRIGGER ${ident(name)} ON chunks RENAME TO ${ident(renamedFor(name, BUILDING_CHUNKS, ACTIVE_CHUNKS))}`);
    }
  }

  /** In the cancel's transaction: drops `chunks_next` and what was built in it. */
  async dropNext(em: EntityManager): Promise<void> {
    const [row]: Array<{ t: string | null }> = await em.query(`SELECT to_regclass('chunks_next')::text AS t`);
    if (row.t !== null) await this.lockTables(em, 'documents, chunks_next');
    await em.query(`DROP TABLE IF EXISTS chunks_next`);
  }

  /** Indexes of `chunks` matching `where` (on pg_index `i`), with their definitions. */
  private indexes(em: Runner, where: string): Promise<Array<{ name: string; def: string }>> {
    return em.query(
      `SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = 'chunks'::regclass AND ${where} ORDER BY c.relname`,
    );
  }

  /** The user-defined triggers of `table`, with their definitions. */
  private triggers(em: Runner, table: ChunkTable): Promise<Array<{ name: string; def: string }>> {
    return em.query(
      `SELECT tgname AS name, pg_get_triggerdef(oid) AS def FROM pg_trigger WHERE tgrelid = $1::regclass AND NOT tgisinternal ORDER BY tgname`,
      [table],
    );
  }

  /**
   * Takes the tables the switch or the cancel drops or renames, `documents` first (their
   * foreign keys make DROP lock it too): the order a document delete cascading into the
   * chunks takes them, so the two cannot deadlock. Gives up after DDL_LOCK_TIMEOUT rather
   * than keep the holders of generations (searches) waiting behind it.
   */
  private async lockTables(em: EntityManager, tables: string): Promise<void> {
    await em.query(`SET LOCAL lock_timeout = '${DDL_LOCK_TIMEOUT}'`);
    await em.query(`LOCK TABLE ${tables} IN ACCESS EXCLUSIVE MODE`);
  }
}
