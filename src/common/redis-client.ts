import Redis, { Cluster, ClusterOptions, RedisOptions } from 'ioredis';
import { RedisConfig } from '../config/app-config';
import { redisOptions } from './redis-options';

/** A connection to the configured Redis, whichever its topology. */
export type RedisClient = Redis | Cluster;

/** Per-use tuning; `retryStrategy` also drives a cluster client's reconnects. */
export type RedisClientOptions = Pick<
  RedisOptions,
  'lazyConnect' | 'enableOfflineQueue' | 'maxRetriesPerRequest' | 'connectTimeout' | 'retryStrategy' | 'connectionName' | 'commandTimeout'
>;

/**
 * Opens a client for the configured Redis: standalone, behind Sentinel (the ioredis
 * `sentinels` options, following failovers) or a Cluster (an ioredis `Cluster`).
 */
export function createRedisClient(config: RedisConfig, options: RedisClientOptions = {}): RedisClient {
  if (config.clusterNodes) return new Cluster(config.clusterNodes, clusterOptions(config, options));
  return new Redis({ ...redisOptions(config), ...options });
}

function clusterOptions(config: RedisConfig, options: RedisClientOptions): ClusterOptions {
  const { lazyConnect, enableOfflineQueue, retryStrategy, ...perNode } = options;
  // A cluster has no database numbers: each node is addressed by the cluster itself.
  const { db: _db, host: _host, port: _port, ...credentials } = redisOptions(config);
  return {
    lazyConnect,
    enableOfflineQueue,
    clusterRetryStrategy: retryStrategy ? (times) => retryStrategy(times) ?? null : undefined,
    redisOptions: { ...credentials, ...perNode },
  };
}
