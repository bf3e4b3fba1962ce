/**
 * A model that turns texts into fixed-size vectors. `EMBEDDING_PROVIDER` chooses the one
 * this process is configured with. Stored vectors belong to an embedding generation,
 * which records the spec (`EmbeddingSpec`) of the model that made them; a generation's
 * chunks and queries are embedded by that model, which a process configured otherwise
 * rebuilds from the spec, so vectors are only compared with vectors of the same model
 * and dimension.
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
  /**
   * False for a provider that computes a vector more cheaply than the embedding cache
   * can look one up and store it (the cache is then skipped); absent means true.
   */
  readonly worthCaching?: boolean;
  /** Releases threads, sockets or sessions held by the provider. */
  close?(): Promise<void>;
}

/** Nest injection token for the configured provider. */
export const EMBEDDING_PROVIDER = Symbol('EMBEDDING_PROVIDER');
