import { FUSION_METHODS, FusionMethod, SCORE_NORMALISATIONS, ScoreNormalisation } from '../vector-store/fusion.query';
import type { EnvReader } from './env-reader';

/** Hybrid search: result counts, HNSW breadth and how the two lists are fused. */
export interface SearchConfig {
  defaultTopK: number;
  maxTopK: number;
  efSearch: number;
  /** How hybrid search fuses its lists (SEARCH_FUSION, see `FusionParams`). */
  fusion: FusionMethod;
  /** How `relative` fusion normalises each list's scores. */
  normalisation: ScoreNormalisation;
  /** Reciprocal rank fusion constant k (`rrf` only): score = Σ weight / (k + rank). */
  rrfK: number;
  vectorWeight: number;
  /** Against the vector list's 1; defaults chosen with bench/retrieval, leave-one-corpus-out. */
  keywordWeight: number;
  /** `relative`: keyword weight added per unit of the keyword list's decisiveness for the query. */
  keywordDecisiveGain: number;
  /** Keyword list weight, in place of `keywordWeight`, for queries that quote an identifier (a flag, an error code, an API name). */
  identifierKeywordWeight: number;
  /** Hybrid `groupBy: "document"` fuses each list's best chunk per document rather than chunks. */
  fuseDocuments: boolean;
  /** Rows each list (vector, keyword) contributes to hybrid fusion and document grouping. */
  candidates: number;
  /** Most chunks the keyword list scores once a query's words are common in its namespace. */
  keywordBudget: number;
  /** Namespaces of at most this many chunks are searched exactly, not through the HNSW index (and, when at most 1% of the table, match keywords over their own rows). */
  exactVectorMaxChunks: number;
}

/** SEARCH_* settings. */
export function readSearch(r: EnvReader): SearchConfig {
  return {
    defaultTopK: r.int('SEARCH_DEFAULT_TOP_K', 10, 1, 1000),
    maxTopK: r.int('SEARCH_MAX_TOP_K', 100, 1, 10000),
    efSearch: r.int('SEARCH_EF', 1000, 1, 1000),
    fusion: r.oneOf('SEARCH_FUSION', FUSION_METHODS, 'relative'),
    normalisation: r.oneOf('SEARCH_FUSION_NORMALISATION', SCORE_NORMALISATIONS, 'minmax'),
    rrfK: r.int('SEARCH_RRF_K', 60, 1, 10000),
    vectorWeight: readWeight(r, 'SEARCH_VECTOR_WEIGHT', 1),
    keywordWeight: readWeight(r, 'SEARCH_KEYWORD_WEIGHT', 0.4),
    keywordDecisiveGain: readWeight(r, 'SEARCH_KEYWORD_DECISIVE_GAIN', 1),
    identifierKeywordWeight: readWeight(r, 'SEARCH_IDENTIFIER_KEYWORD_WEIGHT', 2),
    fuseDocuments: r.bool('SEARCH_FUSE_DOCUMENTS', true),
    candidates: r.int('SEARCH_CANDIDATES', 50, 1, 1000),
    keywordBudget: r.int('SEARCH_KEYWORD_BUDGET', 1000, 10, 100000000),
    exactVectorMaxChunks: r.int('SEARCH_EXACT_MAX_CHUNKS', 20000, 0, 100000000),
  };
}

/** A fusion weight: a finite number from 0 to 100. */
function readWeight(r: EnvReader, name: string, fallback: number): number {
  const raw = r.optional(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || value > 100) {
    r.fail(name, 'must be a number from 0 to 100');
    return fallback;
  }
  return value;
}
