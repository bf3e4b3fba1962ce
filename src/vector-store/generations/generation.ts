import type { EmbeddingSpec } from '../../embedding/embedding-spec';

export type GenerationStatus = 'building' | 'active' | 'retired' | 'cancelled';

/** The vectors of one model: the active generation lives in `chunks`, a building one in `chunks_next`. */
export interface Generation {
  id: number;
  status: GenerationStatus;
  /** The embedder's `modelId`, as recorded with each chunk. */
  modelId: string;
  dimension: number;
  /** How to rebuild its embedder; null for vectors stored before generations were recorded. */
  spec: EmbeddingSpec | null;
  previousId: number | null;
  createdAt: Date;
  activatedAt: Date | null;
  finishedAt: Date | null;
}

/** The generations a reader or writer of chunks may touch: the active one, and the one a re-embed builds. */
export interface CurrentGenerations {
  active: Generation;
  building: Generation | null;
}

/** Where each live generation's chunks are. */
export const ACTIVE_CHUNKS = 'chunks';
export const BUILDING_CHUNKS = 'chunks_next';
export type ChunkTable = typeof ACTIVE_CHUNKS | typeof BUILDING_CHUNKS;

export function chunkTableOf(generation: Generation): ChunkTable {
  return generation.status === 'building' ? BUILDING_CHUNKS : ACTIVE_CHUNKS;
}

/** pgvector's HNSW index takes vectors of at most this many dimensions. */
export const HNSW_MAX_DIMENSION = 2000;

/**
 * Version recorded for a document copied while not ready (queued, processing or failed
 * after an update): its chunks are those of an earlier version, kept searchable as the
 * active generation keeps them, until a new version is ready.
 */
export const NOT_READY_COPY = -1;

/**
 * The generation a search or a write was prepared for is no longer what it expected (a
 * re-embed switched or was cancelled): prepare again (see `retryOnGenerationChange`).
 */
export class GenerationChangedError extends Error {
  constructor(readonly generationId: number) {
    super(`embedding generation ${generationId} is no longer current`);
    this.name = 'GenerationChangedError';
  }
}

/** The configured model's vectors cannot be indexed; raised before anything is created. */
export class UnindexableDimensionError extends Error {}

export function assertIndexable(dimension: number): void {
  if (dimension > HNSW_MAX_DIMENSION) {
    throw new UnindexableDimensionError(
      `pgvector's HNSW index takes vectors of at most ${HNSW_MAX_DIMENSION} dimensions, not ${dimension}: ` +
        `configure a smaller EMBEDDING_DIMENSION (with OPENAI_SEND_DIMENSIONS=true for models that shorten their vectors)`,
    );
  }
}

export function describeModel(m: { modelId: string; dimension: number }): string {
  return `${m.modelId} (${m.dimension} dimensions)`;
}
