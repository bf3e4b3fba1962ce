import { BackfillConfig, readBackfill } from './backfill.config';
import { BatchConfig, readBatch } from './batch.config';
import { AuthConfig, readAuth } from './auth.config';
import { ChunkingConfig, readChunkSizes } from './chunking.config';
import { PostgresConfig, RedisConfig, readPostgres, readRedis } from './connections.config';
import { EmbeddingConfig, readEmbedding, readEmbeddingModel } from './embedding.config';
import { FilesConfig, readFiles } from './files.config';
import { EventsConfig, WebhooksConfig, readEvents, readWebhooks } from './events.config';
import { LimitsConfig, readLimits } from './limits.config';
import { ConfigError, EnvReader } from './env-reader';
import { ObservabilityConfig, readObservability } from './observability.config';
import { HealingConfig, readHealing } from './healing.config';
import { QueueConfig, readQueue, readQueueBackoff } from './queue.config';
import { ReindexConfig, readReindex } from './reindex.config';
import { SearchConfig, readSearch } from './search.config';
import { SlicesConfig, readSlices } from './slices.config';

export type { BackfillConfig } from './backfill.config';
export type { BatchConfig } from './batch.config';
export type { AuthConfig, RateLimits } from './auth.config';
export type { ChunkingConfig } from './chunking.config';
export type { PostgresConfig, RedisConfig } from './connections.config';
export type { EmbeddingCacheRetention, EmbeddingConfig, EmbeddingProviderName } from './embedding.config';
export type { LogFormat, LogLevel, ObservabilityConfig } from './observability.config';
export type { FilesConfig } from './files.config';
export type { LimitsConfig } from './limits.config';
export type { QueueConfig } from './queue.config';
export type { EventsConfig, WebhooksConfig } from './events.config';
export type { AuditConfig, HealingConfig } from './healing.config';
export type { ReindexConfig } from './reindex.config';
export type { SearchConfig } from './search.config';
export type { SlicesConfig } from './slices.config';
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
  backfill: BackfillConfig;
  search: SearchConfig;
  observability: ObservabilityConfig;
  batch: BatchConfig;
  files: FilesConfig;
  events: EventsConfig;
  webhooks: WebhooksConfig;
  /** What one request or document may cost. */
  limits: LimitsConfig;
  auth: AuthConfig;
  healing: HealingConfig;
  slices: SlicesConfig;
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
  const redis = readRedis(r);

  const config: AppConfig = {
    role: r.oneOf('ROLE', ['all', 'api', 'worker'] as const, 'all'),
    port: r.int('PORT', 3000, 0, 65535),
    workerPort: r.int('WORKER_PORT', 3001, 0, 65535),
    bodyLimitBytes: r.int('BODY_LIMIT_BYTES', 10 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    postgres: readPostgres(r),
    redis,
    queue: readQueue(r, backoffMs, redis.clusterNodes !== undefined),
    chunking: { ...chunkSizes, contextual: r.bool('CONTEXTUAL_CHUNKS', true) },
    embedding: readEmbedding(r, model),
    reindex: readReindex(r),
    backfill: readBackfill(r),
    search: readSearch(r),
    observability: readObservability(r),
    batch: readBatch(r),
    files: readFiles(r),
    events: readEvents(r),
    webhooks: readWebhooks(r),
    limits: readLimits(r),
    auth: readAuth(r, env),
    healing: readHealing(r),
    slices: readSlices(r),
  };
  r.throwIfInvalid();
  return config;
}
