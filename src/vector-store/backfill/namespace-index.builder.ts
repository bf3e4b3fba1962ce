import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryRunner } from 'typeorm';
import { ACTIVE_CHUNKS } from '../generations/generation';
import { INDEX_BUILD_LOCK, ident, indexDefFor } from '../generations/chunk-tables';
import { NamespaceIndex, NamespaceIndexes } from './namespace-indexes.repository';

/** The shared HNSW index, whose definition (operator class, m, ef_construction) each namespace's index copies. */
const SHARED_INDEX = 'chunks_embedding_hnsw_idx';
const MB = 1024 * 1024;
/** Debian's default: a smaller setting would only slow a build down. */
const MIN_WORK_MEM_MB = 64;

/**
 * `maintenance_work_mem` (in MB) that holds the HNSW graph of `rows` vectors of
 * `dimension` in memory while it is built, capped at `maxMb`: once the graph outgrows it,
 * pgvector finishes the build on disk, several times slower (100k rows of 384 dimensions:
 * ~24 s with 1 GB, ~91 s with 64 MB). Per row: the vector (4 bytes a dimension), the
 * neighbour lists (2m at layer 0, about m more above, ~12 bytes each), element overhead;
 * a quarter more for slack.
 */
export function workMemFor(rows: number, dimension: number, m: number, maxMb: number): number {
  const perRow = 4 * dimension + 8 + 3 * m * 12 + 96;
  const wanted = Math.ceil((rows * perRow * 1.25) / MB);
  return Math.max(MIN_WORK_MEM_MB, Math.min(maxMb, wanted));
}

/** A Postgres size (`64MB`, `1GB`, `512kB`) in MB. */
export function sizeInMb(size: string): number {
  const m = /^(\d+)(kB|MB|GB)$/.exec(size);
  if (!m) throw new Error(`not a size: ${size}`);
  const n = Number(m[1]);
  return m[2] === 'GB' ? n * 1024 : m[2] === 'MB' ? n : Math.max(1, Math.floor(n / 1024));
}

/** What a build did. */
export interface NamespaceIndexBuild {
  rows: number;
  ms: number;
  maintenanceWorkMem: string;
}

/**
 * Builds one backfilled namespace's HNSW index over its loaded rows: a partial index
 * (`WHERE own_index AND namespace = …`) with the shared index's definition, made with
 * CREATE INDEX CONCURRENTLY so the namespace's writes and every search go on, with
 * `maintenance_work_mem` sized to its graph. One build at a time in the deployment (an
 * advisory lock shared with the re-embed's build: two graphs in memory at once would
 * starve each other). Resumable: an index a crash left invalid is dropped and built
 * again; one that a crash left valid is kept.
 */
@Injectable()
export class NamespaceIndexBuilder {
  private readonly logger = new Logger(NamespaceIndexBuilder.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly indexes: NamespaceIndexes,
  ) {}

  /**
   * Builds `target`'s index and marks it ready once its import is in (see
   * `NamespaceIndexes.claimBuild`): 'loading' if it is not, 'busy' if another process
   * holds the build lock.
   */
  async build(target: NamespaceIndex, quietMs: number, maxWorkMem: string): Promise<NamespaceIndexBuild | 'loading' | 'busy'> {
    const qr = this.db.createQueryRunner();
    await qr.connect();
    try {
      const [{ locked }]: Array<{ locked: boolean }> = await qr.query('SELECT pg_try_advisory_lock($1) AS locked', [INDEX_BUILD_LOCK]);
      if (!locked) return 'busy';
      try {
        if (!(await this.indexes.claimBuild(target.namespace, quietMs))) return 'loading';
        return await this.buildLocked(qr, target, maxWorkMem);
      } catch (err) {
        await qr
          .query(`UPDATE namespace_indexes SET last_error = $2 WHERE namespace = $1`, [target.namespace, String(err)])
          .catch(() => undefined);
        throw err;
      } finally {
        await qr.query('RESET statement_timeout; RESET maintenance_work_mem').catch(() => undefined);
        await qr.query('SELECT pg_advisory_unlock($1)', [INDEX_BUILD_LOCK]).catch(() => undefined);
      }
    } finally {
      await qr.release();
    }
  }

  private async buildLocked(qr: QueryRunner, target: NamespaceIndex, maxWorkMem: string): Promise<NamespaceIndexBuild> {
    const started = Date.now();
    const name = target.indexName;
    const [index]: Array<{ valid: boolean }> = await qr.query(`SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = to_regclass($1)`, [
      ident(name),
    ]);
    // Left invalid by a crash; or valid but from before this import (a crash before the start dropped it): built again.
    const keep = index?.valid === true && target.state !== 'loading';
    if (index && !keep) await qr.query(`DROP INDEX CONCURRENTLY IF EXISTS ${ident(name)}`);
    const [{ rows }]: Array<{ rows: number }> = await qr.query(`SELECT count(*)::int AS rows FROM chunks WHERE namespace = $1 AND own_index`, [
      target.namespace,
    ]);
    const { def, dimension } = await this.sharedIndex(qr);
    const workMem = `${workMemFor(rows, dimension, hnswM(def), sizeInMb(maxWorkMem))}MB`;
    if (!keep) {
      await qr.query('SET statement_timeout = 0');
      await qr.query(`SET maintenance_work_mem = '${workMem}'`);
      const [{ literal }]: Array<{ literal: string }> = await qr.query('SELECT quote_literal($1::text) AS literal', [target.namespace]);
      const shared = indexDefFor(def, SHARED_INDEX, name, ACTIVE_CHUNKS, true).replace(/ WHERE .*$/, '');
      await qr.query(`${shared} WHERE (own_index AND namespace = ${literal})`);
    }
    const ms = Date.now() - started;
    await qr.query(
      `UPDATE namespace_indexes SET state = 'ready', built_at = now(), build_ms = $2, rows_indexed = $3, maintenance_work_mem = $4
        WHERE namespace = $1 AND state = 'building'`,
      [target.namespace, ms, rows, workMem],
    );
    this.logger.log(`namespace ${target.namespace}: HNSW index over ${rows} chunks built in ${ms} ms (maintenance_work_mem ${workMem})`);
    return { rows, ms, maintenanceWorkMem: workMem };
  }

  /** The shared index's definition and the vector column's dimension. */
  private async sharedIndex(qr: QueryRunner): Promise<{ def: string; dimension: number }> {
    const [row]: Array<{ def: string; dimension: number }> = await qr.query(
      `SELECT pg_get_indexdef(to_regclass($1)) AS def,
              (SELECT atttypmod FROM pg_attribute WHERE attrelid = 'chunks'::regclass AND attname = 'embedding') AS dimension`,
      [SHARED_INDEX],
    );
    return { def: row.def, dimension: Number(row.dimension) };
  }
}

/** The `m` of an HNSW index definition (pgvector's default 16 when unset). */
function hnswM(def: string): number {
  const m = /\bm\s*=\s*'?(\d+)/.exec(def);
  return m ? Number(m[1]) : 16;
}
