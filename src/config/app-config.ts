import { ChunkingConfig, readChunkSizes } from './chunking.config';
import { PostgresConfig, RedisConfig, readPostgres, readRedis } from './connections.config';
import { EmbeddingConfig, readEmbedding, readEmbeddingModel } from './embedding.config';
import { ConfigError, EnvReader } from './env-reader';
import { HealingConfig, readHealing } from './healing.config';
import { QueueConfig, readQueue, readQueueBackoff } from './queue.config';
import { ReindexConfig, readReindex } from './reindex.config';
import { SearchConfig, readSearch } from './search.config';

export type { ChunkingConfig } from './chunking.config';
export type { PostgresConfig, RedisConfig } from './connections.config';
export type { EmbeddingCacheRetention, EmbeddingConfig, EmbeddingProviderName } from './embedding.config';
export type { QueueConfig } from './queue.config';
export type { AuditConfig, HealingConfig } from './healing.config';
export type { ReindexConfig } from './reindex.config';
export type { SearchConfig } from './search.config';
export { ConfigError };

export type ProcessRole = 'all' | 'api' | 'worker';

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
  queue: QueueConfig;
  chunking: ChunkingConfig;
  embedding: EmbeddingConfig;
  reindex: ReindexConfig;
  search: SearchConfig;
  healing: HealingConfig;
}

/**
 * Reads and validates the configuration. Every bad variable is collected and reported
 * together in one `ConfigError`, so an operator fixes them in one go.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const r = new EnvReader(env);
  // Read first, in this order, as the problems are listed in the order they are found:
  // the model decides the chunk unit, and QUEUE_BACKOFF_MS bounds QUEUE_BACKOFF_MAX_MS.
  const model = readEmbeddingModel(r);
  const chunkSizes = readChunkSizes(r, model.provider, model.model);
  const backoffMs = readQueueBackoff(r);

  const config: AppConfig = {
    role: r.oneOf('ROLE', ['all', 'api', 'worker'] as const, 'all'),
    port: r.int('PORT', 3000, 0, 65535),
    workerPort: r.int('WORKER_PORT', 3001, 0, 65535),
    bodyLimitBytes: r.int('BODY_LIMIT_BYTES', 10 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    postgres: readPostgres(r),
    redis: readRedis(r),
    queue: readQueue(r, backoffMs),
    chunking: { ...chunkSizes, contextual: r.bool('CONTEXTUAL_CHUNKS', true) },
    embedding: readEmbedding(r, model),
    reindex: readReindex(r),
    search: readSearch(r),
    healing: readHealing(r),
  };
  r.throwIfInvalid();
  return config;
}
