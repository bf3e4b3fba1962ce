import type { Generation } from './generations/generation';
import { FusionParams, fusedSelect } from './fusion.query';
import type { KeywordPlan } from './keyword-plan';
import { atLeastTsquery } from './at-least-tsquery';
import { vectorText } from '../embedding/vector-text';

/** Scalar equality, or membership with `{ $in: [...] }`, on a metadata key. */
export type MetadataCondition = string | number | boolean | { $in: Array<string | number | boolean> };
export type MetadataFilter = Record<string, MetadataCondition>;

/** How candidates are found: by vector similarity, by keywords, or both fused (see `FusionParams`). */
export type SearchMode = 'hybrid' | 'vector' | 'keyword';
export type { FusionParams } from './fusion.query';

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
  /** Most chunks the keyword list scores once its words are common in the namespace (see `planKeywords`). */
  keywordBudget: number;
  /** Namespaces of at most this many chunks rank the vector list exactly rather than through the HNSW index. */
  exactVectorMaxChunks: number;
  /** Statement timeout of the search's queries (SEARCH_STATEMENT_TIMEOUT_MS); the connection's own when absent. */
  statementTimeoutMs?: number;
  /** Set by the repository from the namespace's size: rank the vector list exactly. */
  exactVector?: boolean;
  /**
   * Set by the repository from the namespace's size: match the keyword list's words row by
   * row over the namespace's own rows, not through the text index shared by every namespace.
   */
  keywordOwnRows?: boolean;
  /**
   * Set by the repository from the namespace's size: it holds much of the table, so the
   * keyword list's matches come from the text index alone, the namespace checked on each
   * row (see `matchTextIndexOnly`).
   */
  keywordTextIndexOnly?: boolean;
  /**
   * Set by the repository: the namespace was backfilled, so its chunks are in an HNSW
   * index of its own (or, until that is built, in none: searched exactly) rather than the shared one.
   */
  ownIndex?: boolean;
  /** The active generation whose model made `embedding`; the search throws `GenerationChangedError` if it is no longer active. */
  generation: Generation;
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
   * (unbounded), raised by the best BM25 score when the chunk matches the whole query;
   * hybrid: the fused score (see `FusionParams`). Higher is better in every mode.
   */
  score: number;
  /** Hybrid fused by document (`FusionParams.byDocument`): the document's fused score, by which hits are ordered first. */
  documentScore?: number;
  ranks: ChunkRanks;
}

/** Text-search configuration of `chunks.content_tsv` (see the chunk-keywords migration). */
const TS_CONFIG = 'english';

/**
 * The SQL of a search: the best chunks for a query in one round trip. Each list (nearest by cosine
 * distance; best BM25 over the query's words) takes `candidates` rows under the
 * same namespace and metadata filter; hybrid fuses them (`fusedSelect`). The vector
 * list is filtered during the HNSW scan with iterative scanning, so a selective filter
 * still yields its rows when they exist.
 */
/**
 * The SQL of a search and its parameters; `keyword` (required unless `mode` is `vector`)
 * says which chunks the keyword list scores.
 */
export function searchQuery(s: ChunkSearch, keyword: KeywordPlan | null): { sql: string; params: unknown[] } {
  const useVector = s.mode !== 'keyword';
  const useKeyword = s.mode !== 'vector';
  if (useVector && !s.embedding) throw new Error(`${s.mode} search needs a query embedding`);
  const params: unknown[] = [s.namespace, s.candidates, s.limit];
  const filters = filterConditions(s.filter, params);
  const conditions = ['c.namespace = $1', ...filters].join(' AND ');
  const ctes: string[] = [];
  if (useVector) {
    params.push(vectorText(s.embedding!));
    const v = `$${params.length}::vector`;
    // relaxed_order may return index rows slightly out of order: rank after the scan.
    // A small namespace is ranked exactly: its rows come from the namespace index and every
    // distance is computed (the "+ 0" keeps the HNSW index out), where the shared graph would
    // make the scan step over the other namespaces' rows and still miss some neighbours.
    const order = s.exactVector ? `(c.embedding <=> ${v}) + 0, c.id` : `c.embedding <=> ${v}`;
    // Names the partial HNSW index that holds the namespace: the planner picks a partial index only when the query implies its predicate.
    const index = s.ownIndex ? 'c.own_index' : 'NOT c.own_index';
    ctes.push(`vec AS MATERIALIZED (
        SELECT c.id, c.embedding <=> ${v} AS distance FROM chunks c
         WHERE ${conditions} AND ${index} ORDER BY ${order} LIMIT $2),
      vec_ranked AS (SELECT id, distance, row_number() OVER (ORDER BY distance, id) AS rank FROM vec)`);
  }
  if (useKeyword) {
    if (!keyword) throw new Error(`${s.mode} search needs a keyword plan`);
    const words = keywordQuery(s.query);
    params.push(words.any, words.all, keyword.total);
    const anyQ = `websearch_to_tsquery('${TS_CONFIG}', $${params.length - 2})`;
    const allText = `$${params.length - 1}::text`;
    const total = `$${params.length}::float8`;
    // Written so no index can serve it, the namespace is checked on the rows the text index
    // finds instead of intersecting them with every entry the namespace index has.
    const scanConditions = s.keywordTextIndexOnly ? [`coalesce(c.namespace, '') = $1`, ...filters].join(' AND ') : conditions;
    // Which chunks are scored: every one holding a query word; or (common words, a large
    // namespace) those holding every query word, which rank first, those holding the
    // query's rarest words, those holding many of its rarest words and those holding many
    // of its common words (the coordination candidates), up to each one's limit.
    const scan = (where: string, limit = ''): string =>
      `SELECT c.id, c.content_tsv AS tsv, c.char_count, (c.content_tsv @@ q.all_q) AS has_all
         FROM chunks c CROSS JOIN q WHERE ${scanConditions} AND ${where} ${limit}`;
    // The text index's postings of a common word cover every namespace: in a small namespace
    // beside a large one, reading them costs what the large one holds. Called as a function,
    // the match cannot use that index, so the rows come from the namespace (or filter) index
    // and the cost is bounded by the namespace's own size.
    const matches = (tsquery: string): string => (s.keywordOwnRows ? `ts_match_vq(c.content_tsv, ${tsquery})` : `c.content_tsv @@ ${tsquery}`);
    let matched = scan(matches('q.any_q'));
    // Candidates found before the others (see the filter below), as a CTE of their own.
    let filteredCte = '';
    // When the estimated frequencies of words left out of the candidates apply: not when the candidates are every match.
    let estimatesApply = 'TRUE';
    if (keyword.candidates) {
      params.push(atLeastTsquery(keyword.candidates, 1), keyword.limit);
      const rare = matches(`$${params.length - 1}::tsquery`);
      const limitParam = `$${params.length}`;
      const limit = `LIMIT ${limitParam}`;
      const bounded = [matches('q.all_q'), rare].map((where) => ({ where, limit }));
      if (keyword.coordination) {
        params.push(atLeastTsquery(keyword.coordination.lexemes, keyword.coordination.atLeast));
        bounded.push({ where: matches(`$${params.length}::tsquery`), limit });
      }
      if (keyword.commonCoordination) {
        const { lexemes, atLeast, limit: most } = keyword.commonCoordination;
        params.push(atLeastTsquery(lexemes, atLeast), most);
        bounded.push({ where: matches(`$${params.length - 1}::tsquery`), limit: `LIMIT $${params.length}` });
      }
      if (Object.keys(s.filter).length > 0) {
        // The words' frequencies are the namespace's: a selective filter may leave a few chunks
        // that hold neither every word nor the rarest ones. So the filter's rows holding any
        // word are found first, up to the budget, matched row by row over the filter's rows
        // (through the text index, the planner, which cannot estimate the query's matches,
        // intersected the filter with every namespace's postings of common words). When they
        // are fewer than the budget they are every match, scored as exact BM25 scores them
        // (frequencies counted among them), and the other scans are skipped, for the same
        // reason: a 10k-chunk namespace beside 200k others spent 4.8 ms per filtered search in
        // them against 1.2 ms without.
        filteredCte = `filtered AS MATERIALIZED (${scan('ts_match_vq(c.content_tsv, q.any_q)', limit)}),`;
        const truncated = `(SELECT count(*) FROM filtered) >= ${limitParam}`;
        estimatesApply = truncated;
        matched = ['SELECT * FROM filtered', ...bounded.map((b) => scan(`${truncated} AND ${b.where}`, b.limit))].map((q) => `(${q})`).join(' UNION ');
      } else {
        matched = bounded.map((b) => `(${scan(b.where, b.limit)})`).join(' UNION ');
      }
    }
    params.push(keyword.estimatedDf.map((e) => e.lexeme), keyword.estimatedDf.map((e) => e.df));
    const [estLexemes, estDf] = [params.length - 1, params.length].map((i) => `$${i}`);
    // Okapi BM25 (k1 = 1.2, b = 0.75) over the candidates: idf from the namespace's chunk
    // count and each word's document frequency (counted among the candidates, or estimated
    // for common words left out of them), term frequency from the tsvector positions, length
    // normalised by the candidates' mean length. Chunks that match the whole query (every
    // word, compound identifiers such as ERR_SOME_CODE as phrases) rank first: bag-of-words
    // scoring alone loses the order of their parts.
    // Term frequencies: the query's lexemes are marked with weight A (the stored vectors use
    // only B and D) and kept alone by ts_filter, so each candidate yields a row per query word
    // it holds rather than one per word it holds (unnesting whole vectors cost most of the time).
    ctes.push(`q AS (SELECT ${anyQ} AS any_q, websearch_to_tsquery('${TS_CONFIG}', ${allText}) AS all_q,
                      ARRAY(SELECT DISTINCT t.lexeme FROM unnest(to_tsvector('${TS_CONFIG}', ${allText})) t) AS lexemes),
      ${filteredCte}
      matched AS MATERIALIZED (${matched}),
      tf AS (SELECT m.id, t.lexeme, coalesce(array_length(t.positions, 1), 1) AS f
               FROM matched m CROSS JOIN q CROSS JOIN LATERAL unnest(ts_filter(setweight(m.tsv, 'A', q.lexemes), '{a}')) t),
      df AS (SELECT lexeme, max(df) AS df
               FROM (SELECT lexeme, count(*)::float8 AS df FROM tf GROUP BY lexeme
                     UNION ALL SELECT * FROM unnest(${estLexemes}::text[], ${estDf}::float8[]) WHERE ${estimatesApply}) counted
              GROUP BY lexeme),
      -- One row each, computed once: inlined, the planner may rescan them per term
      -- occurrence (a phrase in the query, such as a hyphenated word, makes it expect few).
      total AS MATERIALIZED (SELECT ${total} AS n),
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
    fused = fusedSelect(s.fusion, params);
  }
  const byDocument = s.mode === 'hybrid' && s.fusion.byDocument === true;
  const sql = `
    WITH ${ctes.join(',\n')},
    fused AS (${fused})
    SELECT f.id, f.vrank, f.krank, f.score, ${byDocument ? 'f.doc_score' : 'NULL::float8 AS doc_score'}, c.document_id, c.chunk_index,
           c.content, c.context, c.metadata, d.metadata AS document_metadata, d.title, d.external_id
      FROM fused f
      JOIN chunks c ON c.id = f.id
      JOIN documents d ON d.id = c.document_id
     ORDER BY ${byDocument ? 'f.doc_score DESC, c.document_id, ' : ''}f.score DESC, coalesce(f.vrank, f.krank), f.id
     LIMIT $3`;
  return { sql, params };
}

export interface SearchRow {
  id: string;
  vrank: string | number | null;
  krank: string | number | null;
  score: string | number;
  doc_score: string | number | null;
  document_id: string;
  chunk_index: number;
  content: string;
  context: string | null;
  metadata: Record<string, unknown>;
  document_metadata: Record<string, unknown>;
  title: string | null;
  external_id: string | null;
}

/** A row of `searchQuery`'s result as a hit. */
export function toChunkHit(r: SearchRow): ChunkHit {
  return {
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
    ...(r.doc_score !== null ? { documentScore: Number(r.doc_score) } : {}),
    ranks: {
      ...(r.vrank !== null ? { vector: Number(r.vrank) } : {}),
      ...(r.krank !== null ? { keyword: Number(r.krank) } : {}),
    },
  };
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
