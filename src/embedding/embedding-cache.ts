import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { fromSql, toSql } from 'pgvector';
import { DataSource } from 'typeorm';

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
 * The Postgres `embedding_cache` table: vectors keyed by (model, dimension, sha256 of the
 * normalised text). Reads and writes are one statement each, whatever the number of texts.
 */
@Injectable()
export class EmbeddingCache {
  constructor(@InjectDataSource() private readonly db: SqlRunner) {}

  /**
   * Cached vectors of `texts` under `model` and `dimension`: an array aligned with
   * `texts`, `undefined` where there is no entry.
   */
  async lookup(model: string, dimension: number, texts: readonly string[]): Promise<Array<number[] | undefined>> {
    if (texts.length === 0) return [];
    const keys = texts.map(cacheKey);
    const rows = (await this.db.query(
      `SELECT encode(text_sha256, 'hex') AS key, embedding::text AS embedding
         FROM embedding_cache
        WHERE model = $1 AND dimension = $2 AND text_sha256 = ANY (SELECT decode(k, 'hex') FROM unnest($3::text[]) AS k)`,
      [model, dimension, [...new Set(keys)]],
    )) as Array<{ key: string; embedding: string }>;
    const byKey = new Map(rows.map((r) => [r.key, fromSql(r.embedding) as number[]]));
    return keys.map((k) => byKey.get(k));
  }

  /**
   * Stores vectors for `texts` (aligned arrays) in one INSERT; entries already present
   * are kept. Every vector must have `dimension` elements.
   */
  async store(model: string, dimension: number, texts: readonly string[], vectors: readonly number[][]): Promise<void> {
    if (texts.length !== vectors.length) throw new Error(`store: ${texts.length} texts but ${vectors.length} vectors`);
    const entries = new Map<string, string>();
    texts.forEach((t, i) => {
      if (vectors[i].length !== dimension) {
        throw new Error(`store: vector ${i} has ${vectors[i].length} dimensions, expected ${dimension}`);
      }
      entries.set(cacheKey(t), toSql(vectors[i]) as string);
    });
    if (entries.size === 0) return;
    await this.db.query(
      `INSERT INTO embedding_cache (model, dimension, text_sha256, embedding)
       SELECT $1, $2, decode(u.key, 'hex'), u.emb
         FROM unnest($3::text[], $4::vector[]) AS u(key, emb)
       ON CONFLICT (model, dimension, text_sha256) DO NOTHING`,
      [model, dimension, [...entries.keys()], [...entries.values()]],
    );
  }
}
