import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig, EmbeddingCacheRetention } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import type { SqlRunner } from '../embedding-cache';

/** What one pruning pass deleted. */
export interface PruneReport {
  /** Entries unused for longer than the TTL. */
  expired: number;
  /** Least recently used entries beyond the row cap. */
  evicted: number;
  /** DELETE statements run (each its own transaction). */
  batches: number;
  /** Longest single DELETE, ms: about the longest time any row lock was held. */
  longestBatchMs: number;
  /** Wall time of the pass, ms. */
  ms: number;
  /** True when the pass stopped early because the process is shutting down. */
  interrupted: boolean;
}

/** Advisory lock key that elects the one process pruning a database ("embc" in ASCII). */
export const PRUNE_LOCK_KEY = 0x656d6263;

/** Keyset position in (last_used_at, created_at) order, as Postgres text (full precision). */
type Cursor = [string, string];
const START: Cursor = ['-infinity', '-infinity'];

/**
 * Deletes up to `limit` of the least recently used entries at or after `cursor` whose
 * `last_used_at` is before `cutoff`, in one short transaction. Rows another transaction
 * holds (a lookup marking them used) are skipped, never waited for. Returns how many it
 * deleted and the position of the last one, so the next batch starts there instead of
 * walking again over the index entries this one left dead.
 */
const DELETE_BATCH = `
WITH doomed AS (
  DELETE FROM embedding_cache
   WHERE ctid = ANY (ARRAY(
           SELECT ctid FROM embedding_cache
            WHERE last_used_at < $1::timestamptz
              AND (last_used_at, created_at) >= ($2::timestamptz, $3::timestamptz)
            ORDER BY last_used_at, created_at
            LIMIT $4
              FOR UPDATE SKIP LOCKED))
  RETURNING last_used_at, created_at
), last AS (
  SELECT last_used_at, created_at FROM doomed ORDER BY last_used_at DESC, created_at DESC LIMIT 1
)
SELECT (SELECT count(*) FROM doomed)::int AS n, last.last_used_at::text AS last_used_at, last.created_at::text AS created_at
  FROM (SELECT 1) AS one LEFT JOIN last ON true`;

/**
 * One pruning pass over `embedding_cache`: first entries unused for `ttlDays`, then the
 * least recently used beyond `maxRows`, each in DELETEs of at most `pruneBatchSize` rows
 * committed one by one, so no lock is held for long and lookups and stores go on meanwhile.
 * `db` must be one session (a query runner or client): the batches carry a keyset
 * position in its text format. `shouldStop` is asked between batches.
 */
export async function pruneEmbeddingCache(
  db: SqlRunner,
  limits: Pick<EmbeddingCacheRetention, 'maxRows' | 'ttlDays' | 'pruneBatchSize'>,
  shouldStop: () => boolean = () => false,
): Promise<PruneReport> {
  const started = Date.now();
  const report: PruneReport = { expired: 0, evicted: 0, batches: 0, longestBatchMs: 0, ms: 0, interrupted: false };
  const batch = Math.max(1, limits.pruneBatchSize);
  // Shared by both phases: the cap's batches start where the TTL's ended. While another
  // session holds an old snapshot (a long query, pg_dump), the index entries of deleted
  // rows stay in the scan's way; restarting from the oldest end each batch would walk
  // over all of them every time (bench/embedding-cache-prune.bench.ts without this
  // position: about 6x slower at 1000 rows per batch).
  let cursor = START;

  /** Deletes up to `total` entries used before `cutoff`, oldest first; returns how many. */
  const deleteOldest = async (cutoff: string, total: number): Promise<number> => {
    let deleted = 0;
    while (deleted < total) {
      if (shouldStop()) {
        report.interrupted = true;
        break;
      }
      const limit = Math.min(batch, total - deleted);
      const t0 = Date.now();
      const [row] = (await db.query(DELETE_BATCH, [cutoff, ...cursor, limit])) as Array<{
        n: number;
        last_used_at: string | null;
        created_at: string | null;
      }>;
      report.batches++;
      report.longestBatchMs = Math.max(report.longestBatchMs, Date.now() - t0);
      deleted += row.n;
      // Fewer than asked: nothing left before the cutoff (or only rows others hold).
      if (row.n < limit || row.last_used_at === null || row.created_at === null) break;
      cursor = [row.last_used_at, row.created_at];
    }
    return deleted;
  };

  if (limits.ttlDays > 0) {
    const [{ cutoff }] = (await db.query(`SELECT (now() - make_interval(days => $1))::text AS cutoff`, [
      limits.ttlDays,
    ])) as Array<{ cutoff: string }>;
    report.expired = await deleteOldest(cutoff, Number.POSITIVE_INFINITY);
  }
  if (limits.maxRows > 0 && !report.interrupted) {
    const [{ n }] = (await db.query(`SELECT count(*)::text AS n FROM embedding_cache`)) as Array<{ n: string }>;
    const excess = Number(n) - limits.maxRows;
    if (excess > 0) report.evicted = await deleteOldest('infinity', excess);
  }
  report.ms = Date.now() - started;
  return report;
}

/**
 * Keeps the embedding cache bounded (EMBEDDING_CACHE_MAX_ROWS, EMBEDDING_CACHE_TTL_DAYS).
 * Runs in worker processes every EMBEDDING_CACHE_PRUNE_INTERVAL_MS (the first pass a
 * minute after start, at most); a Postgres advisory lock lets one process at a time
 * prune a database, the others skip that round. The lock is a session lock held by the
 * pass's own connection, so a process that dies mid-pass releases it with its connection.
 */
@Injectable()
export class EmbeddingCachePruner implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(EmbeddingCachePruner.name);
  private readonly retention: EmbeddingCacheRetention;
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopping = false;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.retention = config.embedding.cacheRetention;
  }

  onApplicationBootstrap(): void {
    if (this.retention.maxRows <= 0 && this.retention.ttlDays <= 0) return;
    const interval = this.retention.pruneIntervalMs;
    // Soon after start too, so workers that never live a whole interval still prune.
    this.schedule(Math.min(interval, 60000), interval);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /**
   * One pass, if no other process is pruning this database: its report, or null when
   * another process holds the lock. Throws when Postgres fails.
   */
  async runIfElected(): Promise<PruneReport | null> {
    const runner = this.db.createQueryRunner();
    try {
      const [{ locked }] = (await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [PRUNE_LOCK_KEY])) as Array<{
        locked: boolean;
      }>;
      if (!locked) return null;
      try {
        return await pruneEmbeddingCache(runner, this.retention, () => this.stopping);
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1)', [PRUNE_LOCK_KEY]).catch((err: unknown) => {
          this.logger.warn(`could not release the pruning lock: ${String(err)}`);
        });
      }
    } finally {
      await runner.release();
    }
  }

  private schedule(delayMs: number, intervalMs: number): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => {
      this.running = this.runIfElected()
        .then((report) => {
          if (report && report.expired + report.evicted > 0) {
            this.logger.log(
              `embedding cache pruned: ${report.expired} unused for ${this.retention.ttlDays} days, ` +
                `${report.evicted} beyond ${this.retention.maxRows} entries, in ${report.batches} batches, ${report.ms} ms`,
            );
          }
        })
        .catch((err: unknown) => this.logger.warn(`embedding cache pruning failed: ${String(err)}`))
        .finally(() => {
          this.running = undefined;
          this.schedule(intervalMs, intervalMs);
        });
    }, delayMs);
    this.timer.unref();
  }
}
