import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { EmbeddingSpec } from '../embedding/embedding-spec';

export type GenerationStatus = 'building' | 'active' | 'retired' | 'cancelled';

/** The vectors of one model: the active generation lives in `chunks`, a building one in `chunks_next`. */
export interface Generation {
  id: number;
  status: GenerationStatus;
  /** The embedder's `modelId`, as recorded with each chunk. */
  modelId: string;
  dimension: number;
  /** How to rebuild its embedder; null for vectors stored before generations were recorded. */
  spec: EmbeddingSpec | null;
  previousId: number | null;
  createdAt: Date;
  activatedAt: Date | null;
  finishedAt: Date | null;
}

/** Where each generation's chunks are. */
export const ACTIVE_CHUNKS = 'chunks';
export const BUILDING_CHUNKS = 'chunks_next';
export type ChunkTable = typeof ACTIVE_CHUNKS | typeof BUILDING_CHUNKS;

/** pgvector's HNSW index takes vectors of at most this many dimensions. */
export const HNSW_MAX_DIMENSION = 2000;

export interface ReindexProgress {
  /** Documents that must be in the new generation (every document not failed). */
  total: number;
  /** Of those, documents whose current version the new generation holds. */
  done: number;
  /** Documents whose current version could not be re-embedded (permanent error). */
  failed: number;
  /** A few of the failures, for the operator. */
  errors: Array<{ documentId: string; error: string }>;
}

export type SwitchOutcome = 'switched' | 'incomplete' | 'unindexed' | 'gone';

/**
 * Version recorded for a document copied while not ready (queued, processing or failed
 * after an update): its chunks are those of an earlier version, kept searchable as the
 * active generation keeps them, until a new version is ready.
 */
export const NOT_READY_COPY = -1;

/**
 * SQL condition on `documents d`: the building generation `$1` must hold this document.
 * A ready document must be there at its current version; one that is not ready must be
 * there as it is in `chunks` (if it has chunks at all). `held` is the condition on the
 * coverage row `r` that counts as holding it.
 */
function mustHold(held: string): string {
  return `((d.status = 'ready' AND NOT EXISTS (SELECT 1 FROM reindex_documents r
                                              WHERE r.generation_id = $1 AND r.document_id = d.id AND r.version = d.version AND ${held}))
        OR (d.status <> 'ready' AND EXISTS (SELECT 1 FROM chunks c WHERE c.document_id = d.id)
            AND NOT EXISTS (SELECT 1 FROM reindex_documents r WHERE r.generation_id = $1 AND r.document_id = d.id AND ${held})))`;
}

/** Longest a switch or a cancel waits for a table lock before giving up (and trying again later). */
const DDL_LOCK_TIMEOUT = '5s';

/** Any value that is the same in every process of the deployment: serialises generation changes. */
const GENERATIONS_LOCK = 7_350_517_001;
/** Taken shared by every reader and writer of a generation's chunks, exclusively by the switch and the cancel. */
const HOLD_LOCK = 7_350_517_003;
/** Held (per session) by the one process building the deferred indexes. */
const INDEX_BUILD_LOCK = 7_350_517_002;

interface GenerationRow {
  id: number;
  status: GenerationStatus;
  model: string;
  dimension: number;
  spec: EmbeddingSpec | null;
  previous_id: number | null;
  created_at: Date;
  activated_at: Date | null;
  finished_at: Date | null;
}

const toGeneration = (r: GenerationRow): Generation => ({
  id: r.id,
  status: r.status,
  modelId: r.model,
  dimension: r.dimension,
  spec: r.spec,
  previousId: r.previous_id,
  createdAt: r.created_at,
  activatedAt: r.activated_at,
  finishedAt: r.finished_at,
});

/**
 * Embedding generations in Postgres: which model's vectors `chunks` holds, the one being
 * built in `chunks_next` during a re-embed, which documents it already holds, and the
 * atomic switch. Changes of generation are serialised by one advisory lock; every
 * reader or writer of a generation's chunks holds another one shared (`hold`), which
 * the switch and the cancel take exclusively, so they wait for those in flight and
 * none straddles them.
 */
@Injectable()
export class GenerationsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Runs `work` in a transaction holding the deployment-wide generations lock. */
  async locked<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(async (em) => {
      await em.query('SELECT pg_advisory_xact_lock($1)', [GENERATIONS_LOCK]);
      return work(em);
    });
  }

  async current(em: EntityManager | DataSource = this.db): Promise<{ active: Generation | null; building: Generation | null }> {
    const rows: GenerationRow[] = await em.query(`SELECT * FROM embedding_generations WHERE status IN ('active', 'building')`);
    const find = (s: GenerationStatus) => rows.map(toGeneration).find((g) => g.status === s) ?? null;
    return { active: find('active'), building: find('building') };
  }

  /** The newest generation made by a re-embed, whatever became of it; null if there never was one. */
  async latestReindex(): Promise<Generation | null> {
    const rows: GenerationRow[] = await this.db.query(
      `SELECT * FROM embedding_generations WHERE previous_id IS NOT NULL ORDER BY id DESC LIMIT 1`,
    );
    return rows.length > 0 ? toGeneration(rows[0]) : null;
  }

  async findById(id: number): Promise<Generation | null> {
    const rows: GenerationRow[] = await this.db.query(`SELECT * FROM embedding_generations WHERE id = $1`, [id]);
    return rows.length > 0 ? toGeneration(rows[0]) : null;
  }

  /**
   * The newest generation of this model that an operator or a later re-embed set aside:
   * retired (it was active, then replaced), or cancelled since `sinceId` was made active.
   */
  async setAside(em: EntityManager, model: { modelId: string; dimension: number }, sinceId: number): Promise<Generation | null> {
    const rows: GenerationRow[] = await em.query(
      `SELECT * FROM embedding_generations
        WHERE model = $1 AND dimension = $2 AND (status = 'retired' OR (status = 'cancelled' AND id > $3))
        ORDER BY id DESC LIMIT 1`,
      [model.modelId, model.dimension, sinceId],
    );
    return rows.length > 0 ? toGeneration(rows[0]) : null;
  }

  /** Dimension of `chunks.embedding` from the schema, or null if the table is missing. */
  async activeColumnDimension(em: EntityManager | DataSource = this.db): Promise<number | null> {
    const rows: Array<{ dim: number }> = await em.query(
      `SELECT atttypmod AS dim FROM pg_attribute WHERE attrelid = to_regclass('chunks') AND attname = 'embedding' AND NOT attisdropped`,
    );
    return rows.length > 0 ? Number(rows[0].dim) : null;
  }

  async hasChunks(em: EntityManager): Promise<boolean> {
    return (await em.query(`SELECT 1 FROM chunks LIMIT 1`)).length > 0;
  }

  /** Resizes the empty `chunks` table's vector column (a new deployment configured for another dimension). */
  async resizeEmptyActive(em: EntityManager, dimension: number): Promise<void> {
    assertIndexable(dimension);
    await em.query(`LOCK TABLE chunks IN ACCESS EXCLUSIVE MODE`);
    if (await this.hasChunks(em)) throw new Error('chunks is not empty');
    await em.query(`ALTER TABLE chunks ALTER COLUMN embedding TYPE vector(${Math.trunc(dimension)})`);
  }

  async createActive(em: EntityManager, spec: EmbeddingSpec): Promise<Generation> {
    const rows: GenerationRow[] = await em.query(
      `INSERT INTO embedding_generations (status, model, dimension, spec, activated_at)
       VALUES ('active', $1, $2, $3, now()) RETURNING *`,
      [spec.modelId, spec.dimension, JSON.stringify(spec)],
    );
    return toGeneration(rows[0]);
  }

  async setSpec(em: EntityManager, id: number, spec: EmbeddingSpec): Promise<void> {
    await em.query(`UPDATE embedding_generations SET spec = $2 WHERE id = $1`, [id, JSON.stringify(spec)]);
  }

  /**
   * Records a building generation and creates its empty `chunks_next`: the columns,
   * constraints and indexes of `chunks` (copied from the catalogue, so they follow
   * future migrations), with the vector column sized for the new model. The HNSW
   * indexes wait for `buildDeferredIndexes`: a graph built over the loaded rows is far
   * faster than one maintained row by row.
   */
  async createBuilding(em: EntityManager, spec: EmbeddingSpec, previousId: number): Promise<Generation> {
    assertIndexable(spec.dimension);
    const rows: GenerationRow[] = await em.query(
      `INSERT INTO embedding_generations (status, model, dimension, spec, previous_id)
       VALUES ('building', $1, $2, $3, $4) RETURNING *`,
      [spec.modelId, spec.dimension, JSON.stringify(spec), previousId],
    );
    await em.query(`DROP TABLE IF EXISTS chunks_next`);
    await em.query(`CREATE TABLE chunks_next (LIKE chunks INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING CONSTRAINTS INCLUDING STORAGE)`);
    await em.query(`ALTER TABLE chunks_next ALTER COLUMN embedding TYPE vector(${Math.trunc(spec.dimension)})`);
    await em.query(`
      DO $$
      DECLARE r record;
      BEGIN
        FOR r IN SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
                  WHERE conrelid = 'chunks'::regclass AND contype IN ('p', 'u', 'f') LOOP
          EXECUTE format('ALTER TABLE chunks_next ADD CONSTRAINT %I %s', 'chunks_next' || substr(r.conname, 7), r.def);
        END LOOP;
        FOR r IN SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS def
                   FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                  WHERE i.indrelid = 'chunks'::regclass
                    AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = 'chunks'::regclass AND k.conindid = i.indexrelid)
                    AND pg_get_indexdef(i.indexrelid) NOT LIKE '% USING hnsw %' LOOP
          EXECUTE regexp_replace(
            replace(r.def, 'INDEX ' || quote_ident(r.name) || ' ON ', 'INDEX ' || quote_ident('chunks_next' || substr(r.name, 7)) || ' ON '),
            ' ON (ONLY )?([a-z_]+\\.)?chunks USING ', ' ON chunks_next USING ');
        END LOOP;
      END $$`);
    return toGeneration(rows[0]);
  }

  private async tableExists(em: EntityManager, name: string): Promise<boolean> {
    const [row]: Array<{ t: string | null }> = await em.query(`SELECT to_regclass($1)::text AS t`, [name]);
    return row.t !== null;
  }

  /** True when `chunks_next` has a valid copy of every HNSW index of `chunks`. */
  async deferredIndexesReady(em: EntityManager | DataSource = this.db): Promise<boolean> {
    const [row]: Array<{ wanted: number; built: number }> = await em.query(
      `SELECT (SELECT count(*) FROM pg_index i WHERE i.indrelid = 'chunks'::regclass
                  AND pg_get_indexdef(i.indexrelid) LIKE '% USING hnsw %')::int AS wanted,
              (SELECT count(*) FROM pg_index i WHERE i.indrelid = to_regclass('chunks_next') AND i.indisvalid
                  AND pg_get_indexdef(i.indexrelid) LIKE '% USING hnsw %')::int AS built`,
    );
    return row.built >= row.wanted;
  }

  /**
   * Builds the HNSW indexes of `chunks_next` (see `createBuilding`) without blocking the
   * writes that still arrive: CREATE INDEX CONCURRENTLY, on a connection of its own with
   * no statement timeout and `maintenanceWorkMem`. One process at a time; false if
   * another is building them.
   */
  async buildDeferredIndexes(maintenanceWorkMem: string): Promise<boolean> {
    const qr = this.db.createQueryRunner();
    await qr.connect();
    try {
      const [{ locked }]: Array<{ locked: boolean }> = await qr.query('SELECT pg_try_advisory_lock($1) AS locked', [INDEX_BUILD_LOCK]);
      if (!locked) return false;
      try {
        await qr.query('SET statement_timeout = 0');
        await qr.query(`SET maintenance_work_mem = '${maintenanceWorkMem.replace(/[^0-9A-Za-z]/g, '')}'`);
        const indexes: Array<{ name: string; def: string }> = await qr.query(
          `SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid = 'chunks'::regclass AND pg_get_indexdef(i.indexrelid) LIKE '% USING hnsw %'`,
        );
        for (const { name, def } of indexes) {
          const target = name.startsWith('chunks') ? `chunks_next${name.slice('chunks'.length)}` : `chunks_next_${name}`;
          const [existing]: Array<{ valid: boolean }> = await qr.query(
            `SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = to_regclass($1)`,
            [target],
          );
          if (existing?.valid) continue;
          // A build that died half-way leaves an invalid index behind.
          if (existing) await qr.query(`DROP INDEX CONCURRENTLY IF EXISTS ${target}`);
          await qr.query(
            def
              .replace(`INDEX ${name} ON `, `INDEX CONCURRENTLY ${target} ON `)
              .replace(/ ON (ONLY )?([a-z_]+\.)?chunks USING /, ' ON chunks_next USING '),
          );
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

  /** Abandons the building generation and drops what it built. */
  async cancelBuilding(em: EntityManager, id: number): Promise<void> {
    // A concurrent index build holds chunks_next until it ends, possibly hours later: stop it.
    await em.query(
      `SELECT pg_cancel_backend(l.pid) FROM pg_locks l
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
          AND l.classid::bigint = ($1::bigint >> 32) AND l.objid::bigint = ($1::bigint & 4294967295)`,
      [INDEX_BUILD_LOCK],
    );
    await this.excludeHolders(em);
    if (await this.tableExists(em, 'chunks_next')) await this.lockTables(em, 'documents, chunks_next');
    await em.query(`UPDATE embedding_generations SET status = 'cancelled', finished_at = now() WHERE id = $1 AND status = 'building'`, [id]);
    await em.query(`DROP TABLE IF EXISTS chunks_next`);
    await em.query(`DELETE FROM reindex_documents WHERE generation_id = $1`, [id]);
  }

  /**
   * Inside a reader's or writer's transaction: true while generation `id` still has
   * `status`, and holds that true until the transaction ends. A shared advisory lock,
   * not a row lock: a search stays a read-only transaction (no transaction id, no WAL),
   * and the switch (`excludeHolders`) waits for every holder without being overtaken.
   */
  async hold(em: EntityManager, id: number, status: 'active' | 'building'): Promise<boolean> {
    await em.query('SELECT pg_advisory_xact_lock_shared($1)', [HOLD_LOCK]);
    const rows: unknown[] = await em.query(`SELECT 1 FROM embedding_generations WHERE id = $1 AND status = $2`, [id, status]);
    return rows.length > 0;
  }

  /**
   * Documents the generation does not hold yet (see `mustHold`), failures excluded: ready
   * ones at their current version, and those not ready that still have chunks searchable.
   */
  async uncovered(generationId: number, limit: number): Promise<Array<{ id: string; version: number; ready: boolean }>> {
    return this.db.query(
      `SELECT d.id, d.version, d.status = 'ready' AS ready FROM documents d
        WHERE ${mustHold('true')}
        ORDER BY d.id LIMIT $2`,
      [generationId, limit],
    );
  }

  async recordCovered(em: EntityManager, generationId: number, documentId: string, version: number): Promise<void> {
    await em.query(
      `INSERT INTO reindex_documents (generation_id, document_id, version) VALUES ($1, $2, $3)
       ON CONFLICT (generation_id, document_id) DO UPDATE SET version = excluded.version, error = NULL, updated_at = now()`,
      [generationId, documentId, version],
    );
  }

  /** A permanent failure of one document; it stays out of the switch until retried. */
  async recordFailure(generationId: number, documentId: string, version: number, error: string): Promise<void> {
    await this.db.query(
      `INSERT INTO reindex_documents (generation_id, document_id, version, error)
       SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM embedding_generations WHERE id = $1 AND status = 'building')
       ON CONFLICT (generation_id, document_id) DO UPDATE SET version = excluded.version, error = excluded.error, updated_at = now()`,
      [generationId, documentId, version, error.slice(0, 2000)],
    );
  }

  /** Forgets the failures so the documents are tried again; returns how many. */
  async clearFailures(generationId: number): Promise<number> {
    const [, count] = (await this.db.query(`DELETE FROM reindex_documents WHERE generation_id = $1 AND error IS NOT NULL`, [
      generationId,
    ])) as [unknown, number];
    return count;
  }

  async progress(generationId: number): Promise<ReindexProgress> {
    // The documents the switch waits for: ready ones, and others that still have chunks.
    const [row]: Array<{ total: string; done: string; failed: string }> = await this.db.query(
      `SELECT count(*) AS total,
              count(*) FILTER (WHERE r.error IS NULL AND (d.status <> 'ready' OR r.version = d.version)) AS done,
              count(*) FILTER (WHERE r.error IS NOT NULL AND (d.status <> 'ready' OR r.version = d.version)) AS failed
         FROM documents d
         LEFT JOIN reindex_documents r ON r.generation_id = $1 AND r.document_id = d.id
        WHERE d.status = 'ready' OR EXISTS (SELECT 1 FROM chunks c WHERE c.document_id = d.id)`,
      [generationId],
    );
    const errors: Array<{ document_id: string; error: string }> = await this.db.query(
      `SELECT r.document_id, r.error FROM reindex_documents r JOIN documents d ON d.id = r.document_id
        WHERE r.generation_id = $1 AND r.error IS NOT NULL AND (d.status <> 'ready' OR r.version = d.version)
        ORDER BY r.updated_at DESC LIMIT 10`,
      [generationId],
    );
    return {
      total: Number(row.total),
      done: Number(row.done),
      failed: Number(row.failed),
      errors: errors.map((e) => ({ documentId: e.document_id, error: e.error })),
    };
  }

  /**
   * Makes the building generation active if it holds the current version of every
   * ready document: in one transaction, once every reader and writer holding a
   * generation (`hold`) has finished, drops the old `chunks` and renames `chunks_next` (and its
   * indexes and constraints) in its place. Anything else leaves both generations as
   * they were.
   */
  async trySwitch(buildingId: number): Promise<SwitchOutcome> {
    return this.locked(async (em) => {
      const { active, building } = await this.current(em);
      if (!active || !building || building.id !== buildingId) return 'gone';
      // Checked before excluding holders too: a pass that cannot switch must not make searches wait.
      if (await this.anyUncovered(em, building.id)) return 'incomplete';
      if (!(await this.deferredIndexesReady(em))) return 'unindexed';
      await this.excludeHolders(em);
      if (await this.anyUncovered(em, building.id)) return 'incomplete';
      await this.lockTables(em, 'documents, chunks, chunks_next');
      await em.query(`DROP TABLE chunks`);
      await em.query(`ALTER TABLE chunks_next RENAME TO chunks`);
      await em.query(`
        DO $$
        DECLARE r record;
        BEGIN
          -- Renaming an index renames the primary key or unique constraint it backs.
          FOR r IN SELECT conname FROM pg_constraint WHERE conrelid = 'chunks'::regclass AND contype = 'f' AND conname LIKE 'chunks\\_next%' LOOP
            EXECUTE format('ALTER TABLE chunks RENAME CONSTRAINT %I TO %I', r.conname, 'chunks' || substr(r.conname, 12));
          END LOOP;
          FOR r IN SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                    WHERE i.indrelid = 'chunks'::regclass AND c.relname LIKE 'chunks\\_next%' LOOP
            EXECUTE format('ALTER INDEX %I RENAME TO %I', r.name, 'chunks' || substr(r.name, 12));
          END LOOP;
        END $$`);
      await em.query(`UPDATE embedding_generations SET status = 'retired', finished_at = now() WHERE id = $1`, [active.id]);
      await em.query(`UPDATE embedding_generations SET status = 'active', activated_at = now(), finished_at = now() WHERE id = $1`, [
        building.id,
      ]);
      await em.query(`DELETE FROM reindex_documents WHERE generation_id = $1`, [building.id]);
      return 'switched';
    });
  }

  /** True while the generation lacks a document it must hold (see `mustHold`), or failed on one. */
  private async anyUncovered(em: EntityManager, generationId: number): Promise<boolean> {
    const missing: unknown[] = await em.query(`SELECT 1 FROM documents d WHERE ${mustHold('r.error IS NULL')} LIMIT 1`, [generationId]);
    return missing.length > 0;
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

  /**
   * Waits until no transaction holds a generation (see `hold`), and keeps new holders
   * waiting until this transaction ends. Advisory locks queue in the order asked, so
   * a stream of overlapping searches cannot keep the switch waiting (share row locks
   * could: a FOR SHARE joins the row's share lockers even while a FOR UPDATE waits).
   */
  private async excludeHolders(em: EntityManager): Promise<void> {
    await em.query('SELECT pg_advisory_xact_lock($1)', [HOLD_LOCK]);
  }
}

/** The configured model's vectors cannot be indexed; raised before anything is created. */
export class UnindexableDimensionError extends Error {}

function assertIndexable(dimension: number): void {
  if (dimension > HNSW_MAX_DIMENSION) {
    throw new UnindexableDimensionError(
      `pgvector's HNSW index takes vectors of at most ${HNSW_MAX_DIMENSION} dimensions, not ${dimension}: ` +
        `configure a smaller EMBEDDING_DIMENSION (with OPENAI_SEND_DIMENSIONS=true for models that shorten their vectors)`,
    );
  }
}
