import type { EnvReader } from './env-reader';

/** Hybrid search: result counts, HNSW breadth and rank fusion. */
export interface SearchConfig {
  defaultTopK: number;
  maxTopK: number;
  efSearch: number;
  /** Reciprocal rank fusion constant k: score = Σ weight / (k + rank). */
  rrfK: number;
  vectorWeight: number;
  /** Default 0.5 against the vector list's 1, tuned with bench/retrieval. */
  keywordWeight: number;
  /** Keyword list weight for queries that quote an identifier (a flag, an error code, an API name). */
  identifierKeywordWeight: number;
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
    efSearch: r.int('SEARCH_EF', 100, 1, 1000),
    rrfK: r.int('SEARCH_RRF_K', 60, 1, 10000),
    vectorWeight: readWeight(r, 'SEARCH_VECTOR_WEIGHT', 1),
    keywordWeight: readWeight(r, 'SEARCH_KEYWORD_WEIGHT', 0.5),
    identifierKeywordWeight: readWeight(r, 'SEARCH_IDENTIFIER_KEYWORD_WEIGHT', 2),
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
