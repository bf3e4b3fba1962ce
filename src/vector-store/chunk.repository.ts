import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { toSql } from 'pgvector';
import { DataSource, EntityManager } from 'typeorm';
import { chunkId } from './chunk-id';
import { ChunkTable, GenerationsRepository } from './generations.repository';

/** A chunk ready to store: text, position and its vector. */
export interface ChunkToWrite {
  index: number;
  content: string;
  contentSha256: string;
  metadata: Record<string, unknown>;
  embedding: number[];
  /**
   * Title and heading path of the chunk (see `chunkContext`), indexed for keywords with
   * the content; null or absent when the chunk has none.
   */
  context?: string | null;
}

/** Scalar equality, or membership with `{ $in: [...] }`, on a metadata key. */
export type MetadataCondition = string | number | boolean | { $in: Array<string | number | boolean> };
export type MetadataFilter = Record<string, MetadataCondition>;

/** How candidates are found: by vector similarity, by keywords, or both fused by reciprocal rank. */
export type SearchMode = 'hybrid' | 'vector' | 'keyword';

/** Reciprocal rank fusion: a row scores Σ weight / (k + rank) over the lists it appears in. */
export interface FusionParams {
  k: number;
  vectorWeight: number;
  keywordWeight: number;
}

export interface ChunkSearch {
  mode: SearchMode;
  /** The query text, for the keyword list. */
  query: string;
  /** The query vector, for the vector list; required unless `mode` is `keyword`. */
  embedding: number[] | null;
  namespace: string;
  filter: MetadataFilter;
  /** Rows returned. */
  limit: number;
  /** Rows each list contributes before fusion (at least `limit` for single-list modes). */
  candidates: number;
  fusion: FusionParams;
  /** HNSW candidate list size: higher finds more true neighbours, slower. */
  efSearch: number;
  /** The active generation whose model made `embedding`; the search fails with `GenerationChangedError` if it is no longer active. */
  generationId: number;
}

/** The generation a search or write was prepared for is no longer the one it expected: prepare again. */
export class GenerationChangedError extends Error {
  constructor(generationId: number) {
    super(`embedding generation ${generationId} is no longer current`);
  }
}

/** A stored chunk as a re-embed copies it into the next generation. */
export interface StoredChunk {
  index: number;
  namespace: string;
  content: string;
  contentSha256: string;
  context: string | null;
  metadata: Record<string, unknown>;
}

/** 1-based rank of a chunk in each list that found it. */
export interface ChunkRanks {
  vector?: number;
  keyword?: number;
}

export interface ChunkHit {
  chunkId: string;
  documentId: string;
  chunkIndex: number;
  content: string;
  /** Title and heading path the chunk was embedded with, or null. */
  context: string | null;
  /** The chunk's metadata: its document's, plus `headingPath` for chunks under a markdown heading. */
  metadata: Record<string, unknown>;
  /** The document's own metadata. */
  documentMetadata: Record<string, unknown>;
  title: string | null;
  externalId: string | null;
  /**
   * vector mode: cosine similarity (1 = same direction); keyword mode: the BM25 score
   * (unbounded), raised by the best BM25 score when the chunk matches the whole query; hybrid: the fused reciprocal-rank score. Higher is better in every mode.
   */
  score: number;
  ranks: ChunkRanks;
}

/** Text-search configuration of `chunks.content_tsv` (see the chunk-keywords migration). */
const TS_CONFIG = 'english';

/** The pgvector `chunks` table: transactional replace of a document's chunks, and similarity search. */
@Injectable()
export class ChunkRepository {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly generations: GenerationsRepository,
  ) {}

  /**
   * Replaces all chunks of a document in `table` (the active generation's, or the one
   * being built) with `chunks`, inside the caller's transaction, which must hold that
   * generation (`GenerationsRepository.hold`). One INSERT for all rows (arrays unnested
   * server-side), whatever the chunk count.
   */
  async replaceChunks(
    em: EntityManager,
    table: ChunkTable,
    documentId: string,
    namespace: string,
    model: string,
    chunks: ChunkToWrite[],
  ): Promise<void> {
    await em.query(`DELETE FROM ${table} WHERE document_id = $1`, [documentId]);
    if (chunks.length === 0) return;
    await em.query(
      `INSERT INTO ${table} (id, document_id, namespace, chunk_index, content, content_sha256, char_count, metadata, model, embedding, context)
       SELECT u.id, $1, $2, u.idx, u.content, u.sha, char_length(u.content), u.meta, $3, u.emb, u.ctx
         FROM unnest($4::uuid[], $5::int[], $6::text[], $7::text[], $8::jsonb[], $9::vector[], $10::text[])
              AS u(id, idx, content, sha, meta, emb, ctx)`,
      [
        documentId,
        namespace,
        model,
        chunks.map((c) => chunkId(documentId, c.index)),
        chunks.map((c) => c.index),
        chunks.map((c) => c.content),
        chunks.map((c) => c.contentSha256),
        chunks.map((c) => JSON.stringify(c.metadata)),
        chunks.map((c) => toSql(c.embedding) as string),
        chunks.map((c) => c.context ?? null),
      ],
    );
  }

  /**
   * The best chunks for a query in one round trip. Each list (nearest by cosine
   * distance; best BM25 over the query's words) takes `candidates` rows under the
   * same namespace and metadata filter; hybrid fuses them by reciprocal rank. The vector
   * list is filtered during the HNSW scan with iterative scanning, so a selective filter
   * still yields its rows when they exist.
   */
  async search(s: ChunkSearch): Promise<ChunkHit[]> {
    const useVector = s.mode !== 'keyword';
    const useKeyword = s.mode !== 'vector';
    if (useVector && !s.embedding) throw new Error(`${s.mode} search needs a query embedding`);
    const params: unknown[] = [s.namespace, s.candidates, s.limit];
    const conditions = ['c.namespace = $1', ...filterConditions(s.filter, params)].join(' AND ');
    const ctes: string[] = [];
    if (useVector) {
      params.push(toSql(s.embedding!));
      const v = `$${params.length}::vector`;
      // relaxed_order may return index rows slightly out of order: rank after the scan.
      ctes.push(`vec AS MATERIALIZED (
          SELECT c.id, c.embedding <=> ${v} AS distance FROM chunks c
           WHERE ${conditions} ORDER BY c.embedding <=> ${v} LIMIT $2),
        vec_ranked AS (SELECT id, distance, row_number() OVER (ORDER BY distance, id) AS rank FROM vec)`);
    }
    if (useKeyword) {
      const words = keywordQuery(s.query);
      params.push(words.any, words.all);
      const anyQ = `websearch_to_tsquery('${TS_CONFIG}', $${params.length - 1})`;
      const allText = `$${params.length}::text`;
      // Okapi BM25 (k1 = 1.2, b = 0.75) over the chunks holding any query word: idf from
      // the namespace's chunk count and the matches' document frequency, term frequency from
      // the tsvector positions, length normalised by the matches' mean length. Chunks that
      // match the whole query (every word, compound identifiers such as ERR_SOME_CODE as
      // phrases) rank first: bag-of-words scoring alone loses the order of their parts.
      ctes.push(`q AS (SELECT ${anyQ} AS any_q, websearch_to_tsquery('${TS_CONFIG}', ${allText}) AS all_q),
        matched AS MATERIALIZED (
          SELECT c.id, c.content_tsv AS tsv, c.char_count, (c.content_tsv @@ q.all_q) AS has_all
            FROM chunks c CROSS JOIN q WHERE ${conditions} AND c.content_tsv @@ q.any_q),
        qterms AS (SELECT DISTINCT t.lexeme FROM unnest(to_tsvector('${TS_CONFIG}', ${allText})) t),
        tf AS (SELECT m.id, t.lexeme, coalesce(array_length(t.positions, 1), 1) AS f
                 FROM matched m CROSS JOIN LATERAL unnest(m.tsv) t WHERE t.lexeme IN (SELECT lexeme FROM qterms)),
        df AS (SELECT lexeme, count(*)::float8 AS df FROM tf GROUP BY lexeme),
        -- One row each, computed once: inlined, the planner may rescan them per term
        -- occurrence (a phrase in the query, such as a hyphenated word, makes it expect few).
        total AS MATERIALIZED (SELECT count(*)::float8 AS n FROM chunks c WHERE c.namespace = $1),
        avglen AS MATERIALIZED (SELECT greatest(avg(char_count), 1)::float8 AS a FROM matched),
        bm25 AS (
          SELECT tf.id, m.has_all, sum(ln(1 + (greatest(total.n, df.df) - df.df + 0.5) / (df.df + 0.5)) * tf.f * 2.2
                   / (tf.f + 1.2 * (0.25 + 0.75 * m.char_count / avglen.a))) AS score
            FROM tf JOIN df USING (lexeme) JOIN matched m ON m.id = tf.id CROSS JOIN total CROSS JOIN avglen
           GROUP BY tf.id, m.has_all),
        kw AS MATERIALIZED (
          SELECT id, score + CASE WHEN has_all THEN max(score) OVER () ELSE 0 END AS kscore
            FROM bm25 ORDER BY kscore DESC, id LIMIT $2),
        kw_ranked AS (SELECT id, kscore, row_number() OVER (ORDER BY kscore DESC, id) AS rank FROM kw)`);
    }
    let fused: string;
    if (s.mode === 'vector') {
      fused = `SELECT id, rank AS vrank, NULL::bigint AS krank, 1 - distance AS score FROM vec_ranked`;
    } else if (s.mode === 'keyword') {
      fused = `SELECT id, NULL::bigint AS vrank, rank AS krank, kscore AS score FROM kw_ranked`;
    } else {
      params.push(s.fusion.k, s.fusion.vectorWeight, s.fusion.keywordWeight);
      const [k, wv, wk] = [params.length - 2, params.length - 1, params.length].map((i) => `$${i}::float8`);
      fused = `SELECT coalesce(v.id, kw.id) AS id, v.rank AS vrank, kw.rank AS krank,
                      coalesce(${wv} / (${k} + v.rank), 0) + coalesce(${wk} / (${k} + kw.rank), 0) AS score
                 FROM vec_ranked v FULL JOIN kw_ranked kw ON kw.id = v.id`;
    }
    const sql = `
      WITH ${ctes.join(',\n')},
      fused AS (${fused})
      SELECT f.id, f.vrank, f.krank, f.score, c.document_id, c.chunk_index, c.content, c.context, c.metadata,
             d.metadata AS document_metadata, d.title, d.external_id
        FROM fused f
        JOIN chunks c ON c.id = f.id
        JOIN documents d ON d.id = c.document_id
       ORDER BY f.score DESC, coalesce(f.vrank, f.krank), f.id
       LIMIT $3`;
    return this.db.transaction(async (em) => {
      if (!(await this.generations.hold(em, s.generationId, 'active'))) throw new GenerationChangedError(s.generationId);
      if (useVector) {
        // SET LOCAL takes no bind parameters; the value is an integer computed from validated config.
        await em.query(`SET LOCAL hnsw.ef_search = ${Math.min(1000, Math.max(Math.trunc(s.efSearch), s.candidates))}`);
        await em.query(`SET LOCAL hnsw.iterative_scan = relaxed_order`);
      }
      const rows: SearchRow[] = await em.query(sql, params);
      return rows.map((r) => ({
        chunkId: r.id,
        documentId: r.document_id,
        chunkIndex: r.chunk_index,
        content: r.content,
        context: r.context,
        metadata: r.metadata,
        documentMetadata: r.document_metadata,
        title: r.title,
        externalId: r.external_id,
        score: Number(r.score),
        ranks: {
          ...(r.vrank !== null ? { vector: Number(r.vrank) } : {}),
          ...(r.krank !== null ? { keyword: Number(r.krank) } : {}),
        },
      }));
    });
  }

  /**
   * The chunks a document has in the active generation while it is at `version`, read in
   * one snapshot with its status: those of that version when it is ready, else those of
   * the last version that was (none if it never was). Null if the document is gone or
   * at another version.
   */
  async documentChunks(documentId: string, version: number): Promise<{ ready: boolean; chunks: StoredChunk[] } | null> {
    const rows: Array<{ ready: boolean; chunk_index: number | null; namespace: string; content: string; content_sha256: string; context: string | null; metadata: Record<string, unknown> }> =
      await this.db.query(
        `SELECT d.status = 'ready' AS ready, c.chunk_index, c.namespace, c.content, c.content_sha256, c.context, c.metadata
           FROM documents d LEFT JOIN chunks c ON c.document_id = d.id
          WHERE d.id = $1 AND d.version = $2
          ORDER BY c.chunk_index`,
        [documentId, version],
      );
    if (rows.length === 0) return null;
    const chunks = rows
      .filter((r) => r.chunk_index !== null)
      .map((r) => ({
        index: r.chunk_index as number,
        namespace: r.namespace,
        content: r.content,
        contentSha256: r.content_sha256,
        context: r.context,
        metadata: r.metadata,
      }));
    return { ready: rows[0].ready, chunks };
  }
}

interface SearchRow {
  id: string;
  vrank: string | number | null;
  krank: string | number | null;
  score: string | number;
  document_id: string;
  chunk_index: number;
  content: string;
  context: string | null;
  metadata: Record<string, unknown>;
  document_metadata: Record<string, unknown>;
  title: string | null;
  external_id: string | null;
}

/**
 * The query's words twice: `any` (joined by "or") is the websearch_to_tsquery input that
 * selects chunks holding any of them, for recall on questions in natural language; `all`
 * (joined by spaces) yields the query's lexemes for BM25 scoring. Quotes are dropped and a leading "-" is not negation:
 * users paste flags such as `--no-preserve-root` or `-r` and mean them literally.
 */
export function keywordQuery(query: string): { any: string; all: string } {
  const words = query
    .replace(/"/g, ' ')
    .split(/\s+/)
    .map((w) => w.replace(/^-+/, ''))
    .filter((w) => w !== '' && w.toLowerCase() !== 'or');
  return { any: words.join(' or '), all: words.join(' ') };
}

/** SQL conditions for a metadata filter; keys and values only ever travel as parameters. */
function filterConditions(filter: MetadataFilter, params: unknown[]): string[] {
  const equal: Record<string, unknown> = {};
  const conditions: string[] = [];
  for (const [key, condition] of Object.entries(filter)) {
    if (typeof condition === 'object') {
      params.push(condition.$in.map((v) => JSON.stringify({ [key]: v })));
      conditions.push(`c.metadata @> ANY($${params.length}::jsonb[])`);
    } else {
      equal[key] = condition;
    }
  }
  if (Object.keys(equal).length > 0) {
    params.push(JSON.stringify(equal));
    conditions.push(`c.metadata @> $${params.length}::jsonb`);
  }
  return conditions;
}
