import { EmbeddingError } from '../embedding.errors';

/** The body of a `POST /embeddings` answer, as far as it is read; every field is checked. */
export interface EmbeddingsResponse {
  data?: Array<{ index?: number; embedding?: unknown }>;
  usage?: { total_tokens?: number; prompt_tokens?: number };
}

/** What error messages about a response name. */
export interface ResponseSource {
  /** The request, e.g. `embedding request to <url> (model <model>)`. */
  where: string;
  url: string;
  model: string;
  /** Length every vector must have. */
  dimension: number;
}

/**
 * The vectors of an answer to `expected` inputs, in input order (by each item's `index`,
 * else by position). Every problem is a permanent `EmbeddingError`: a wrong count, an
 * embedding that is not an array of finite numbers, a wrong dimension, a bad or
 * repeated index.
 */
export function vectorsOf(parsed: EmbeddingsResponse, expected: number, source: ResponseSource): number[][] {
  const { where, url, model, dimension } = source;
  const data = parsed.data;
  if (!Array.isArray(data) || data.length !== expected) {
    throw new EmbeddingError(
      `${where} returned ${Array.isArray(data) ? data.length : 'no'} embeddings for ${expected} inputs`,
      false,
    );
  }
  const out = new Array<number[] | undefined>(expected);
  data.forEach((item, position) => {
    // Servers that omit `index` answer in input order.
    const index = typeof item.index === 'number' ? item.index : position;
    const v = item.embedding;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
      throw new EmbeddingError(
        `${where} returned an embedding that is not an array of numbers (base64 encoding is not supported)`,
        false,
      );
    }
    if (v.length !== dimension) {
      throw new EmbeddingError(
        `embedding dimension mismatch: model ${model} at ${url} returned ${v.length}-dimensional vectors ` +
          `but EMBEDDING_DIMENSION is ${dimension}; set EMBEDDING_DIMENSION=${v.length} (the chunks table must then be ` +
          `migrated or re-embedded), choose a model producing ${dimension} dimensions, or set OPENAI_SEND_DIMENSIONS=true ` +
          `if the model can shorten its vectors`,
        false,
      );
    }
    if (!Number.isInteger(index) || index < 0 || index >= expected || out[index] !== undefined) {
      throw new EmbeddingError(`${where} returned an invalid or repeated index ${index}`, false);
    }
    out[index] = v as number[];
  });
  return out as number[][];
}

/** The tokens the upstream counted (`usage.total_tokens`, else `prompt_tokens`), or undefined when it reports none. */
export function usageTokens(parsed: EmbeddingsResponse): number | undefined {
  const u = parsed.usage;
  const n = u?.total_tokens ?? u?.prompt_tokens;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : undefined;
}
