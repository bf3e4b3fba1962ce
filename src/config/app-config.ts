import type { ChunkUnit } from '../documents/pipeline';
import { KNOWN_TOKENIZER_MODELS, tokenizerSpecFor } from '../embedding/tokenizer';
import { ConfigError, EnvReader } from './env-reader';

export type EmbeddingProviderName = 'local' | 'hash' | 'openai';
export type ProcessRole = 'all' | 'api' | 'worker';

export interface PostgresConfig {
  host: string;
  port: number;
  user: string;
  password: string | undefined;
  database: string;
  /** Connections per process. */
  poolSize: number;
}

export interface RedisConfig {
  host: string;
  port: number;
  username: string | undefined;
  password: string | undefined;
  db: number;
  tls: boolean;
}

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

/** The whole service configuration, read once from the environment and validated. */
export interface AppConfig {
  role: ProcessRole;
  port: number;
  /** Port of the worker process's health endpoints when it runs on its own. */
  workerPort: number;
  /** Largest request body the API accepts, in bytes. */
  bodyLimitBytes: number;
  postgres: PostgresConfig;
  redis: RedisConfig;
  queue: {
    /** Redis key prefix for every queue, so several deployments can share one Redis. */
    prefix: string;
    concurrency: number;
    attempts: number;
    backoffMs: number;
    backoffMaxMs: number;
    /** How often the reconciler looks for documents whose job was lost. */
    reconcileIntervalMs: number;
    /** A queued/processing document unchanged for this long with no live job is re-enqueued. */
    reconcileAgeMs: number;
    /** How long a stopping worker waits for its jobs in flight before abandoning them to a retry. */
    shutdownGraceMs: number;
    /** A worker with waiting jobs that has started none for this long is reported not live. */
    stuckAfterMs: number;
    /** Job lock: a worker that stops renewing it (killed) loses the job after this long. */
    lockMs: number;
    /** How often workers look for jobs whose lock lapsed (stalled) and hand them out again. */
    stalledIntervalMs: number;
    /** Stalls a job may have before it is failed; re-delivery is safe, so this is generous. */
    maxStalledCount: number;
  };
  chunking: {
    /** Unit new documents are chunked in: CHUNK_UNIT, with `auto` resolved (tokens when the model's tokenizer is known). */
    unit: ChunkUnit;
    /** Id of the tokenizer that measures chunks when `unit` is tokens, else null. */
    tokenizer: string | null;
    /** Chunk size and overlap in characters (CHUNK_SIZE, CHUNK_OVERLAP), also the unit of a request's own `chunking`. */
    size: number;
    overlap: number;
    /** Chunk size and overlap in tokens (CHUNK_SIZE_TOKENS, CHUNK_OVERLAP_TOKENS). */
    sizeTokens: number;
    overlapTokens: number;
    /** Prefix each chunk's embedded and keyword-indexed text with its title and heading path (CONTEXTUAL_CHUNKS). */
    contextual: boolean;
  };
  embedding: {
    provider: EmbeddingProviderName;
    dimension: number;
    /** Texts per embed() call. */
    batchSize: number;
    /** Inference threads of the local model. */
    threads: number;
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
  };
  reindex: {
    /** Documents re-embedded at once by each worker process during a re-embed. */
    concurrency: number;
    /** How often workers look for documents the new generation still lacks (and switch when none). */
    intervalMs: number;
    /** `maintenance_work_mem` for building the new generation's HNSW index (a graph that fits builds far faster). */
    maintenanceWorkMem: string;
  };
  search: {
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
  };
}

const LOCAL_DIMENSION = 384;

/**
 * Reads and validates the configuration. Every bad variable is collected and reported
 * together in one `ConfigError`, so an operator fixes them in one go.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const r = new EnvReader(env);
  const provider = r.oneOf('EMBEDDING_PROVIDER', ['local', 'hash', 'openai'] as const, 'local');
  const dimension = r.int('EMBEDDING_DIMENSION', LOCAL_DIMENSION, 8, 16000);
  if (provider === 'local' && env.EMBEDDING_DIMENSION !== undefined && dimension !== LOCAL_DIMENSION) {
    r.fail('EMBEDDING_DIMENSION', `the local model all-MiniLM-L6-v2 produces ${LOCAL_DIMENSION} dimensions`);
  }
  const embeddingModel = r.optional('EMBEDDING_MODEL');
  if (provider === 'openai') {
    if (embeddingModel === undefined) r.fail('EMBEDDING_MODEL', 'is required when EMBEDDING_PROVIDER=openai (e.g. text-embedding-3-small)');
    if (r.optional('EMBEDDING_DIMENSION') === undefined) {
      r.fail('EMBEDDING_DIMENSION', "is required when EMBEDDING_PROVIDER=openai (the model's vector length, e.g. 1536)");
    }
  }
  const openAiBaseUrl = r.url('OPENAI_BASE_URL', ['http:', 'https:'])?.toString() ?? 'https://api.openai.com/v1';
  const chunkSize = r.int('CHUNK_SIZE', 1000, 50, 100000);
  const chunkOverlap = r.int('CHUNK_OVERLAP', 150, 0, 100000);
  if (chunkOverlap >= chunkSize) r.fail('CHUNK_OVERLAP', `must be smaller than CHUNK_SIZE (${chunkSize})`);
  const tokenChunking = readTokenChunking(r, provider, embeddingModel);
  const backoffMs = r.int('QUEUE_BACKOFF_MS', 1000, 1, 3600000);

  const config: AppConfig = {
    role: r.oneOf('ROLE', ['all', 'api', 'worker'] as const, 'all'),
    port: r.int('PORT', 3000, 0, 65535),
    workerPort: r.int('WORKER_PORT', 3001, 0, 65535),
    bodyLimitBytes: r.int('BODY_LIMIT_BYTES', 10 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    postgres: readPostgres(r),
    redis: readRedis(r),
    queue: {
      prefix: r.str('QUEUE_PREFIX', 'ingest'),
      concurrency: r.int('WORKER_CONCURRENCY', 4, 1, 256),
      attempts: r.int('QUEUE_ATTEMPTS', 5, 1, 100),
      backoffMs,
      backoffMaxMs: r.int('QUEUE_BACKOFF_MAX_MS', 60000, backoffMs, 86400000),
      reconcileIntervalMs: r.int('RECONCILE_INTERVAL_MS', 30000, 100, 86400000),
      reconcileAgeMs: r.int('RECONCILE_AGE_MS', 120000, 0, 86400000),
      shutdownGraceMs: r.int('SHUTDOWN_GRACE_MS', 30000, 0, 3600000),
      stuckAfterMs: r.int('WORKER_STUCK_AFTER_MS', 120000, 1000, 86400000),
      lockMs: r.int('QUEUE_LOCK_MS', 60000, 1000, 3600000),
      stalledIntervalMs: r.int('QUEUE_STALLED_INTERVAL_MS', 30000, 500, 3600000),
      maxStalledCount: r.int('QUEUE_MAX_STALLED', 5, 0, 1000),
    },
    chunking: { ...tokenChunking, size: chunkSize, overlap: chunkOverlap, contextual: r.bool('CONTEXTUAL_CHUNKS', true) },
    embedding: {
      provider,
      dimension: provider === 'local' ? LOCAL_DIMENSION : dimension,
      batchSize: r.int('EMBEDDING_BATCH_SIZE', 32, 1, 2048),
      threads: r.int('EMBEDDING_THREADS', 2, 1, 64),
      quantize: r.bool('EMBEDDING_QUANTIZE', false),
      model: embeddingModel,
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
        baseUrl: openAiBaseUrl,
        apiKey: r.optional('OPENAI_API_KEY'),
        apiKeyHeader: r.oneOf('OPENAI_API_KEY_HEADER', ['authorization', 'api-key'] as const, 'authorization'),
        sendDimensions: r.bool('OPENAI_SEND_DIMENSIONS', false),
      },
    },
    reindex: {
      concurrency: r.int('REINDEX_CONCURRENCY', 2, 1, 256),
      intervalMs: r.int('REINDEX_INTERVAL_MS', 2000, 50, 3600000),
      maintenanceWorkMem: readMemory(r, 'REINDEX_MAINTENANCE_WORK_MEM', '256MB'),
    },
    search: {
      defaultTopK: r.int('SEARCH_DEFAULT_TOP_K', 10, 1, 1000),
      maxTopK: r.int('SEARCH_MAX_TOP_K', 100, 1, 10000),
      efSearch: r.int('SEARCH_EF', 100, 1, 1000),
      rrfK: r.int('SEARCH_RRF_K', 60, 1, 10000),
      vectorWeight: readWeight(r, 'SEARCH_VECTOR_WEIGHT', 1),
      keywordWeight: readWeight(r, 'SEARCH_KEYWORD_WEIGHT', 0.5),
      identifierKeywordWeight: readWeight(r, 'SEARCH_IDENTIFIER_KEYWORD_WEIGHT', 2),
      candidates: r.int('SEARCH_CANDIDATES', 50, 1, 1000),
    },
  };
  r.throwIfInvalid();
  return config;
}

/**
 * CHUNK_UNIT and the token sizes. `auto` (the default) sizes chunks in tokens when the
 * model's tokenizer is known and in characters otherwise; `tokens` with no known
 * tokenizer is refused. The token sizes default to the tokenizer's own (the overlap to
 * at most half the size) and may not exceed what the model reads at once.
 */
function readTokenChunking(
  r: EnvReader,
  provider: EmbeddingProviderName,
  model: string | undefined,
): Pick<AppConfig['chunking'], 'unit' | 'tokenizer' | 'sizeTokens' | 'overlapTokens'> {
  const wanted = r.oneOf('CHUNK_UNIT', ['auto', 'tokens', 'chars'] as const, 'auto');
  const spec = tokenizerSpecFor(provider, model);
  if (wanted === 'tokens' && spec === null) {
    const which = provider === 'openai' ? `model ${model ?? '(none)'}` : `the ${provider} provider`;
    r.fail('CHUNK_UNIT', `tokens needs a known tokenizer, and ${which} has none (known: ${KNOWN_TOKENIZER_MODELS.join(', ')}); use auto or chars`);
  }
  const sizeTokens = r.int('CHUNK_SIZE_TOKENS', spec?.defaultSize ?? 200, 16, 100000);
  if (spec !== null && sizeTokens > spec.maxTokens) {
    r.fail('CHUNK_SIZE_TOKENS', `the model reads at most ${spec.maxTokens} tokens of one text (tokenizer ${spec.id}): larger chunks would be cut off`);
  }
  const overlapTokens = r.int('CHUNK_OVERLAP_TOKENS', Math.min(spec?.defaultOverlap ?? 30, Math.floor(sizeTokens / 2)), 0, 100000);
  if (overlapTokens >= sizeTokens) r.fail('CHUNK_OVERLAP_TOKENS', `must be smaller than CHUNK_SIZE_TOKENS (${sizeTokens})`);
  const tokens = wanted !== 'chars' && spec !== null;
  return { unit: tokens ? 'tokens' : 'chars', tokenizer: tokens ? spec.id : null, sizeTokens, overlapTokens };
}

/** A Postgres memory setting such as `256MB` or `1GB`. */
function readMemory(r: EnvReader, name: string, fallback: string): string {
  const raw = r.optional(name);
  if (raw === undefined) return fallback;
  if (!/^[1-9]\d{0,6}(kB|MB|GB)$/.test(raw)) {
    r.fail(name, 'must be a size such as 64MB or 1GB');
    return fallback;
  }
  return raw;
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

function readPostgres(r: EnvReader): PostgresConfig {
  const poolSize = r.int('PG_POOL_SIZE', 10, 1, 1000);
  const url = r.url('DATABASE_URL', ['postgres:', 'postgresql:']);
  if (url) {
    return {
      host: url.hostname || '127.0.0.1',
      port: url.port ? Number(url.port) : 5432,
      user: decodeURIComponent(url.username) || 'postgres',
      password: url.password ? decodeURIComponent(url.password) : undefined,
      database: decodeURIComponent(url.pathname.replace(/^\//, '')) || 'ingest',
      poolSize,
    };
  }
  return {
    host: r.str('PGHOST', '127.0.0.1'),
    port: r.int('PGPORT', 5432, 1, 65535),
    user: r.str('PGUSER', 'postgres'),
    password: r.optional('PGPASSWORD'),
    database: r.str('PGDATABASE', 'ingest'),
    poolSize,
  };
}

function readRedis(r: EnvReader): RedisConfig {
  const url = r.url('REDIS_URL', ['redis:', 'rediss:']) ?? new URL('redis://127.0.0.1:6379');
  const db = url.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) r.fail('REDIS_URL', `database "${db}" must be a number`);
  return {
    host: url.hostname || '127.0.0.1',
    port: url.port ? Number(url.port) : 6379,
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: db === '' ? 0 : Number(db),
    tls: url.protocol === 'rediss:',
  };
}

export { ConfigError };
