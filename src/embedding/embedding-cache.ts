import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { fromSql } from 'pgvector';
import { VectorTypeOid } from '../database/vector-array-param';

/**
 * The text a cache key is computed from: Unicode NFC, `\n` line ends, no surrounding
 * whitespace. Texts equal after this embed to practically the same vector.
 */
export function normalizeForCache(text: string): string {
  return text.normalize('NFC').replace(/\r\n?/g, '\n').trim();
}

/** Hex sha256 of {@link normalizeForCache}(text): the cache key of a text within a model and dimension. */
export function cacheKey(text: string): string {
  return createHash('sha256').update(normalizeForCache(text), 'utf8').digest('hex');
}

/** Minimal query surface the cache needs (a TypeORM DataSource or EntityManager). */
export interface SqlRunner {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/**
 * A hit refreshes its entry's `last_used_at` only when the stored time is older than this:
 * hot entries cost one write an hour, not one per lookup, and retention (days) needs no
 * finer clock.
 */
export const CACHE_TOUCH_AFTER = '1 hour';

/**
 * The looked-up keys ($3, hex) as one array value, so the whole primary key is the index
 * condition: as a subquery (a semi-join) the planner may read every entry of the model
 * instead, as it did with statistics taken before the cache grew (274 ms a lookup at 36k entries).
 */
const KEYS_ARRAY = `ARRAY(SELECT decode(k, 'hex') FROM unnest($3::text[]) AS k)`;

/**
 * The Postgres `embedding_cache` table: vectors keyed by (model, dimension, sha256 of the
 * normalised text), with when each was last used (for retention, see
 * `embedding-cache-pruner.ts`). Reads and writes are one statement each, whatever the
 * number of texts, plus at most one UPDATE per lookup to mark stale hits as used.
 */
@Injectable()
export class EmbeddingCache {
  private readonly logger = new Logger(EmbeddingCache.name);

  constructor(@InjectDataSource() private readonly db: SqlRunner) {}

  /** Vectors go to Postgres in binary (see vectorArrayParam). */
  private readonly vectorType = new VectorTypeOid();

  /**
   * Cached vectors of `texts` under `model` and `dimension`: an array aligned with
   * `texts`, `undefined` where there is no entry. Hits not marked used within
   * {@link CACHE_TOUCH_AFTER} are marked used now.
   */
  async lookup(model: string, dimension: number, texts: readonly string[]): Promise<Array<number[] | undefined>> {
    if (texts.length === 0) return [];
    const keys = texts.map(cacheKey);
    const rows = (await this.db.query(
      `SELECT encode(text_sha256, 'hex') AS key, embedding::text AS embedding,
              last_used_at < now() - $4::interval AS stale
         FROM embedding_cache
        WHERE model = $1 AND dimension = $2 AND text_sha256 = ANY (${KEYS_ARRAY})`,
      [model, dimension, [...new Set(keys)], CACHE_TOUCH_AFTER],
    )) as Array<{ key: string; embedding: string; stale: boolean }>;
    const stale = rows.filter((r) => r.stale).map((r) => r.key);
    if (stale.length > 0) await this.touch(model, dimension, stale);
    const byKey = new Map(rows.map((r) => [r.key, fromSql(r.embedding) as number[]]));
    return keys.map((k) => byKey.get(k));
  }

  /**
   * Marks entries used now, in one statement. Rows another transaction holds (a
   * concurrent touch, the pruner deleting them) are skipped rather than waited for, so
   * concurrent lookups never queue or deadlock on each other. Failure only costs recency,
   * so it is logged, not thrown.
   */
  private async touch(model: string, dimension: number, keys: string[]): Promise<void> {
    try {
      await this.db.query(
        `UPDATE embedding_cache SET last_used_at = now()
          WHERE ctid = ANY (ARRAY(
                  SELECT ctid FROM embedding_cache
                   WHERE model = $1 AND dimension = $2
                     AND text_sha256 = ANY (${KEYS_ARRAY})
                     AND last_used_at < now() - $4::interval
                     FOR UPDATE SKIP LOCKED))`,
        [model, dimension, keys, CACHE_TOUCH_AFTER],
      );
    } catch (err) {
      this.logger.warn(`could not mark ${keys.length} embedding cache entries used: ${String(err)}`);
    }
  }

  /**
   * Stores vectors for `texts` (aligned arrays) in one INSERT; entries already present
   * are kept. Every vector must have `dimension` elements.
   */
  async store(model: string, dimension: number, texts: readonly string[], vectors: readonly number[][]): Promise<void> {
    if (texts.length !== vectors.length) throw new Error(`store: ${texts.length} texts but ${vectors.length} vectors`);
    const entries = new Map<string, readonly number[]>();
    texts.forEach((t, i) => {
      if (vectors[i].length !== dimension) {
        throw new Error(`store: vector ${i} has ${vectors[i].length} dimensions, expected ${dimension}`);
      }
      entries.set(cacheKey(t), vectors[i]);
    });
    if (entries.size === 0) return;
    await this.vectorType.write(this.db, [...entries.values()], (embeddings) =>
      this.db.query(
        `INSERT INTO embedding_cache (model, dimension, text_sha256, embedding)
         SELECT $1, $2, decode(u.key, 'hex'), u.emb
           FROM unnest($3::text[], $4::vector[]) AS u(key, emb)
         ON CONFLICT (model, dimension, text_sha256) DO NOTHING`,
        [model, dimension, [...entries.keys()], embeddings],
      ),
    );
  }
}
