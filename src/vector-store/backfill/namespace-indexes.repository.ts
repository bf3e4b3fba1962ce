import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { ident } from '../generations/chunk-tables';
import { GenerationLock } from '../generations/generation-lock';

/** loading: its import is being written (search is exact); building: its index is being built; ready: searched through it. */
export type NamespaceIndexState = 'loading' | 'building' | 'ready';

/** A namespace with an HNSW index of its own (see the namespace-indexes migration). */
export interface NamespaceIndex {
  namespace: string;
  state: NamespaceIndexState;
  indexName: string;
  startedAt: Date;
  lastBatchAt: Date;
  buildStartedAt: Date | null;
  builtAt: Date | null;
  buildMs: number | null;
  rowsIndexed: number | null;
  maintenanceWorkMem: string | null;
  lastError: string | null;
  /** Whether the index exists and is valid (usable by searches). */
  indexValid: boolean;
}

/** Documents of a namespace by status. */
export interface NamespaceDocumentCounts {
  queued: number;
  processing: number;
  ready: number;
  failed: number;
}

interface Row {
  namespace: string;
  state: NamespaceIndexState;
  index_name: string;
  started_at: Date;
  last_batch_at: Date;
  build_started_at: Date | null;
  built_at: Date | null;
  build_ms: number | null;
  rows_indexed: string | null;
  maintenance_work_mem: string | null;
  last_error: string | null;
  index_valid: boolean;
}

const SELECT = `SELECT n.*, coalesce(i.indisvalid, false) AS index_valid
                  FROM namespace_indexes n LEFT JOIN pg_index i ON i.indexrelid = to_regclass(quote_ident(n.index_name))`;

const toIndex = (r: Row): NamespaceIndex => ({
  namespace: r.namespace,
  state: r.state,
  indexName: r.index_name,
  startedAt: r.started_at,
  lastBatchAt: r.last_batch_at,
  buildStartedAt: r.build_started_at,
  builtAt: r.built_at,
  buildMs: r.build_ms,
  rowsIndexed: r.rows_indexed === null ? null : Number(r.rows_indexed),
  maintenanceWorkMem: r.maintenance_work_mem,
  lastError: r.last_error,
  indexValid: r.index_valid,
});

/**
 * Index name of a namespace's own HNSW index: derived from its name (namespaces may be
 * 128 characters, identifiers 63), prefixed `chunks_` so a re-embed copies and renames it
 * with the table's other indexes.
 */
export function namespaceIndexName(namespace: string): string {
  return `chunks_ns_hnsw_${createHash('sha256').update(namespace).digest('hex').slice(0, 24)}`;
}

/**
 * Rows of `namespace_indexes`: which namespaces are backfilled (their chunks skip the
 * shared HNSW index and get one of their own, built after the import) and where each
 * stands.
 */
@Injectable()
export class NamespaceIndexes {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly lock: GenerationLock,
  ) {}

  /**
   * Puts each namespace in backfill mode before a backfill batch is recorded: from now
   * on its chunks are written without HNSW maintenance and searched exactly until its
   * index is built. A namespace seen for the first time has its existing chunks flagged,
   * under the lock every search and chunk write holds, so none sees it half flagged. A
   * namespace whose index is ready drops it (searched exactly until it is rebuilt);
   * one loading or building stays as it is (rows written during a build join the index).
   */
  async startBackfill(namespaces: string[]): Promise<void> {
    const wanted = [...new Set(namespaces)].sort();
    if (wanted.length === 0) return;
    // The quiet period restarts now, so no build begins before the batch is recorded (recordBatch).
    const known: Array<{ namespace: string; state: NamespaceIndexState }> = await this.db.query(
      `WITH touched AS (UPDATE namespace_indexes SET last_batch_at = now() WHERE namespace = ANY($1) RETURNING namespace, state)
       SELECT namespace, state FROM touched`,
      [wanted],
    );
    const state = new Map(known.map((k) => [k.namespace, k.state]));
    const fresh = wanted.filter((ns) => !state.has(ns));
    if (fresh.length > 0) await this.lock.locked((em) => this.flag(em, fresh));
    for (const ns of wanted.filter((n) => state.get(n) === 'ready')) await this.restartLoading(ns);
  }

  /**
   * In the transaction that records a backfill batch: the namespaces' import goes on. The
   * row lock it holds until the commit makes `claimBuild` wait for the batch's documents.
   */
  async recordBatch(em: EntityManager, namespaces: string[]): Promise<void> {
    await em.query(`UPDATE namespace_indexes SET last_batch_at = now() WHERE namespace = ANY($1)`, [[...new Set(namespaces)].sort()]);
  }

  /**
   * Moves a namespace to `building` if its import is in: no backfill batch for `quietMs`
   * and no document queued or processing. False (nothing changed) otherwise. A namespace
   * already building, or ready but missing its index, is claimed as it is.
   */
  async claimBuild(namespace: string, quietMs: number): Promise<boolean> {
    return this.db.transaction(async (em) => {
      // Waits for a batch recording documents into the namespace (recordBatch) to commit.
      const [row]: Array<{ state: NamespaceIndexState; quiet: boolean }> = await em.query(
        `SELECT state, last_batch_at <= now() - make_interval(secs => $2::float8 / 1000) AS quiet
           FROM namespace_indexes WHERE namespace = $1 FOR UPDATE`,
        [namespace, quietMs],
      );
      if (!row) return false;
      if (row.state === 'loading') {
        const inFlight: unknown[] = await em.query(
          `SELECT 1 FROM documents WHERE namespace = $1 AND status IN ('queued', 'processing') LIMIT 1`,
          [namespace],
        );
        if (!row.quiet || inFlight.length > 0) return false;
      }
      await em.query(`UPDATE namespace_indexes SET state = 'building', build_started_at = now(), last_error = NULL WHERE namespace = $1`, [
        namespace,
      ]);
      return true;
    });
  }

  /** In the generations lock: records `namespaces` as loading and flags their existing chunks. */
  private async flag(em: EntityManager, namespaces: string[]): Promise<void> {
    // Searches and writes in flight finish first, new ones wait for this commit.
    await this.lock.excludeHolders(em);
    await em.query(
      `INSERT INTO namespace_indexes (namespace, state, index_name, last_batch_at)
       SELECT ns, 'loading', idx, now() FROM unnest($1::text[], $2::text[]) AS u(ns, idx)
       ON CONFLICT (namespace) DO UPDATE SET last_batch_at = now()`,
      [namespaces, namespaces.map(namespaceIndexName)],
    );
    // Rows that move out of the shared index: an update writes new tuples, which the
    // shared index (WHERE NOT own_index) skips; the namespace's own index comes later.
    const [{ next }]: Array<{ next: string | null }> = await em.query(`SELECT to_regclass('chunks_next')::text AS next`);
    for (const table of next === null ? ['chunks'] : ['chunks', 'chunks_next']) {
      await em.query(`UPDATE ${table} SET own_index = true WHERE namespace = ANY($1) AND NOT own_index`, [namespaces]);
    }
  }

  /** A ready namespace takes another import: back to loading, its index dropped so the import pays no maintenance. */
  private async restartLoading(namespace: string): Promise<void> {
    // A SELECT over the UPDATE: TypeORM answers a bare UPDATE … RETURNING as [rows, count].
    const [row]: Array<{ index_name: string }> = await this.db.query(
      `WITH restarted AS (
         UPDATE namespace_indexes SET state = 'loading', started_at = now(), last_batch_at = now(), build_started_at = NULL, built_at = NULL,
                build_ms = NULL, rows_indexed = NULL, maintenance_work_mem = NULL, last_error = NULL
          WHERE namespace = $1 AND state = 'ready' RETURNING index_name)
       SELECT index_name FROM restarted`,
      [namespace],
    );
    if (row) await this.db.query(`DROP INDEX CONCURRENTLY IF EXISTS ${ident(row.index_name)}`);
  }

  async find(namespace: string): Promise<NamespaceIndex | null> {
    const rows: Row[] = await this.db.query(`${SELECT} WHERE n.namespace = $1`, [namespace]);
    return rows.length > 0 ? toIndex(rows[0]) : null;
  }

  /** Namespaces whose index is not built, or was lost (a re-embed switched tables before it was built), oldest first. */
  async unbuilt(): Promise<NamespaceIndex[]> {
    const rows: Row[] = await this.db.query(`${SELECT} WHERE n.state <> 'ready' OR i.indisvalid IS NOT TRUE ORDER BY n.started_at`);
    return rows.map(toIndex);
  }

  async documentCounts(namespace: string): Promise<NamespaceDocumentCounts> {
    const rows: Array<{ status: keyof NamespaceDocumentCounts; n: number }> = await this.db.query(
      `SELECT status, count(*)::int AS n FROM documents WHERE namespace = $1 GROUP BY status`,
      [namespace],
    );
    const counts: NamespaceDocumentCounts = { queued: 0, processing: 0, ready: 0, failed: 0 };
    for (const r of rows) counts[r.status] = r.n;
    return counts;
  }

}
