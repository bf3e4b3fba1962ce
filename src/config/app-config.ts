import { ConfigError, EnvReader } from './env-reader';

export type EmbeddingProviderName = 'local' | 'hash';
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
  };
  chunking: { size: number; overlap: number };
  embedding: {
    provider: EmbeddingProviderName;
    dimension: number;
    /** Texts per embed() call. */
    batchSize: number;
    /** Inference threads of the local model. */
    threads: number;
    /** int8 matrix weights for the local model: ~1.8x faster, but a vector then depends slightly on its batch companions. */
    quantize: boolean;
  };
  search: { defaultTopK: number; maxTopK: number; efSearch: number };
}

const LOCAL_DIMENSION = 384;

/**
 * Reads and validates the configuration. Every bad variable is collected and reported
 * together in one `ConfigError`, so an operator fixes them in one go.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const r = new EnvReader(env);
  const provider = r.oneOf('EMBEDDING_PROVIDER', ['local', 'hash'] as const, 'local');
  const dimension = r.int('EMBEDDING_DIMENSION', LOCAL_DIMENSION, 8, 16000);
  if (provider === 'local' && env.EMBEDDING_DIMENSION !== undefined && dimension !== LOCAL_DIMENSION) {
    r.fail('EMBEDDING_DIMENSION', `the local model all-MiniLM-L6-v2 produces ${LOCAL_DIMENSION} dimensions`);
  }
  const chunkSize = r.int('CHUNK_SIZE', 1000, 50, 100000);
  const chunkOverlap = r.int('CHUNK_OVERLAP', 150, 0, 100000);
  if (chunkOverlap >= chunkSize) r.fail('CHUNK_OVERLAP', `must be smaller than CHUNK_SIZE (${chunkSize})`);
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
    },
    chunking: { size: chunkSize, overlap: chunkOverlap },
    embedding: {
      provider,
      dimension: provider === 'local' ? LOCAL_DIMENSION : dimension,
      batchSize: r.int('EMBEDDING_BATCH_SIZE', 32, 1, 2048),
      threads: r.int('EMBEDDING_THREADS', 2, 1, 64),
      quantize: r.bool('EMBEDDING_QUANTIZE', false),
    },
    search: {
      defaultTopK: r.int('SEARCH_DEFAULT_TOP_K', 10, 1, 1000),
      maxTopK: r.int('SEARCH_MAX_TOP_K', 100, 1, 10000),
      efSearch: r.int('SEARCH_EF', 100, 1, 1000),
    },
  };
  r.throwIfInvalid();
  return config;
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
