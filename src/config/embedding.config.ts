import type { EnvReader } from './env-reader';

export type EmbeddingProviderName = 'local' | 'hash' | 'openai';

/** Limits of the embedding cache table; 0 turns a limit off. */
export interface EmbeddingCacheRetention {
  /** Most entries kept; the least recently used beyond it are deleted (EMBEDDING_CACHE_MAX_ROWS, 0 = unbounded). */
  maxRows: number;
  /** Entries unused for this many days are deleted (EMBEDDING_CACHE_TTL_DAYS, 0 = kept forever). */
  ttlDays: number;
  /** How often worker processes prune, ms; one at a time (EMBEDDING_CACHE_PRUNE_INTERVAL_MS). */
  pruneIntervalMs: number;
  /** Entries deleted per statement, each its own short transaction (EMBEDDING_CACHE_PRUNE_BATCH). */
  pruneBatchSize: number;
}

/** The embedding model this process is configured with, and how it is called. */
export interface EmbeddingConfig {
  provider: EmbeddingProviderName;
  dimension: number;
  /** Texts per embed() call. */
  batchSize: number;
  /** Inference threads of the local model. */
  threads: number;
  /**
   * Texts per ONNX run of the local model (a provider call of `batchSize` texts is cut into
   * runs of this many): larger runs pad more and fit the CPU caches worse, so 8 beats 32.
   */
  localRunBatch: number;
  /** int8 matrix weights for the local model: ~1.8x faster, but a vector then depends slightly on its batch companions. */
  quantize: boolean;
  /** Model name sent to a hosted provider (EMBEDDING_MODEL); required for `openai`. */
  model: string | undefined;
  /** Timeout of one request to a hosted provider, ms. */
  requestTimeoutMs: number;
  /** Most estimated tokens (≈ UTF-8 bytes / 4) in one request to a hosted provider. */
  maxBatchTokens: number;
  /** Requests per minute to a hosted provider across every worker process (0 = no limit). */
  rpm: number;
  /** Tokens per minute to a hosted provider across every worker process (0 = no limit). */
  tpm: number;
  /** Retries of a batch within one embed call after a transient failure (429, 5xx, timeout). */
  maxRetries: number;
  /** Reuse stored vectors of chunk texts already embedded with the same model and dimension. */
  cache: boolean;
  /** Bounded retention of the embedding cache, enforced by one worker process at a time. */
  cacheRetention: EmbeddingCacheRetention;
  openai: {
    /** API root; `/embeddings` is appended (OpenAI, Azure OpenAI, Ollama, vLLM, TEI, LM Studio). */
    baseUrl: string;
    apiKey: string | undefined;
    /** `authorization` sends `Authorization: Bearer <key>`; `api-key` sends `api-key: <key>` (Azure). */
    apiKeyHeader: 'authorization' | 'api-key';
    /** Send `dimensions` with each request, for models that shorten their vectors on demand. */
    sendDimensions: boolean;
  };
  /** Development: treat the configured model as the stored vectors' model whatever made them (same dimension only). */
  allowModelMismatch: boolean;
  /**
   * When the configured model differs from the one that made the stored vectors:
   * `reindex` starts and re-embeds every document into a new generation while search
   * answers from the current one; `refuse` stops the process with how to migrate.
   */
  onModelChange: 'reindex' | 'refuse';
}

/** Which model: what the chunking settings depend on, so read before them. */
export interface EmbeddingModelChoice {
  provider: EmbeddingProviderName;
  /** The vector length, 384 for the local model whatever EMBEDDING_DIMENSION says. */
  dimension: number;
  model: string | undefined;
  openAiBaseUrl: string;
}

const LOCAL_DIMENSION = 384;

/**
 * EMBEDDING_PROVIDER, EMBEDDING_DIMENSION, EMBEDDING_MODEL and OPENAI_BASE_URL. The local
 * model admits only its own dimension; `openai` requires both the model and the dimension.
 */
export function readEmbeddingModel(r: EnvReader): EmbeddingModelChoice {
  const provider = r.oneOf('EMBEDDING_PROVIDER', ['local', 'hash', 'openai'] as const, 'local');
  const dimension = r.int('EMBEDDING_DIMENSION', LOCAL_DIMENSION, 8, 16000);
  if (provider === 'local' && r.optional('EMBEDDING_DIMENSION') !== undefined && dimension !== LOCAL_DIMENSION) {
    r.fail('EMBEDDING_DIMENSION', `the local model all-MiniLM-L6-v2 produces ${LOCAL_DIMENSION} dimensions`);
  }
  const model = r.optional('EMBEDDING_MODEL');
  if (provider === 'openai') {
    if (model === undefined) r.fail('EMBEDDING_MODEL', 'is required when EMBEDDING_PROVIDER=openai (e.g. text-embedding-3-small)');
    if (r.optional('EMBEDDING_DIMENSION') === undefined) {
      r.fail('EMBEDDING_DIMENSION', "is required when EMBEDDING_PROVIDER=openai (the model's vector length, e.g. 1536)");
    }
  }
  const openAiBaseUrl = r.url('OPENAI_BASE_URL', ['http:', 'https:'])?.toString() ?? 'https://api.openai.com/v1';
  return { provider, dimension: provider === 'local' ? LOCAL_DIMENSION : dimension, model, openAiBaseUrl };
}

/** The rest of the embedding settings, around the model already chosen. */
export function readEmbedding(r: EnvReader, chosen: EmbeddingModelChoice): EmbeddingConfig {
  return {
    provider: chosen.provider,
    dimension: chosen.dimension,
    batchSize: r.int('EMBEDDING_BATCH_SIZE', 32, 1, 2048),
    threads: r.int('EMBEDDING_THREADS', 2, 1, 64),
    localRunBatch: r.int('EMBEDDING_LOCAL_RUN_BATCH', 8, 1, 2048),
    quantize: r.bool('EMBEDDING_QUANTIZE', false),
    model: chosen.model,
    requestTimeoutMs: r.int('EMBEDDING_REQUEST_TIMEOUT_MS', 30000, 100, 600000),
    maxBatchTokens: r.int('EMBEDDING_MAX_BATCH_TOKENS', 30000, 1, 10000000),
    rpm: r.int('EMBEDDING_RPM', 0, 0, 100000000),
    tpm: r.int('EMBEDDING_TPM', 0, 0, 10000000000),
    maxRetries: r.int('EMBEDDING_MAX_RETRIES', 3, 0, 20),
    cache: r.bool('EMBEDDING_CACHE', true),
    cacheRetention: {
      maxRows: r.int('EMBEDDING_CACHE_MAX_ROWS', 1_000_000, 0, 1_000_000_000_000),
      ttlDays: r.int('EMBEDDING_CACHE_TTL_DAYS', 30, 0, 36500),
      pruneIntervalMs: r.int('EMBEDDING_CACHE_PRUNE_INTERVAL_MS', 600000, 1000, 86400000 * 7),
      pruneBatchSize: r.int('EMBEDDING_CACHE_PRUNE_BATCH', 1000, 1, 1_000_000),
    },
    allowModelMismatch: r.bool('ALLOW_MODEL_MISMATCH', false),
    onModelChange: r.oneOf('EMBEDDING_MODEL_CHANGE', ['reindex', 'refuse'] as const, 'reindex'),
    openai: {
      baseUrl: chosen.openAiBaseUrl,
      apiKey: r.optional('OPENAI_API_KEY'),
      apiKeyHeader: r.oneOf('OPENAI_API_KEY_HEADER', ['authorization', 'api-key'] as const, 'authorization'),
      sendDimensions: r.bool('OPENAI_SEND_DIMENSIONS', false),
    },
  };
}
