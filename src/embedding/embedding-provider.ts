/**
 * A model that turns texts into fixed-size vectors. Implementations are chosen by
 * `EMBEDDING_PROVIDER`; the worker embeds chunks and the API embeds queries with the
 * same instance, so both sides always agree on model and dimension.
 */
export interface EmbeddingProvider {
  /** Length of every vector `embed` returns. */
  readonly dimension: number;
  /** Stable identifier of the model, recorded with each chunk (e.g. `local:all-MiniLM-L6-v2`). */
  readonly modelId: string;
  /**
   * Embeds each text; the result has one vector per input, in input order, each of
   * length `dimension`. Throws `EmbeddingError` (see embedding.errors.ts) on failure.
   */
  embed(texts: string[]): Promise<number[][]>;
  /** Releases threads, sockets or sessions held by the provider. */
  close?(): Promise<void>;
}

/** Nest injection token for the configured provider. */
export const EMBEDDING_PROVIDER = Symbol('EMBEDDING_PROVIDER');
