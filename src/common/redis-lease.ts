import { RedisConfig } from '../config/connections.config';
import { RedisClient, createRedisClient } from './redis-client';
import { randomUUID } from 'node:crypto';

/**
 * A lease on one Redis key, so that only one replica at a time runs a periodic task. Held
 * for at most `ttlMs` (a holder that dies frees it then) and released only by its owner.
 */
export class RedisLease {
  private readonly owner = randomUUID();

  constructor(private readonly redis: RedisClient, private readonly key: string, private readonly ttlMs: number) {}

  /** Runs `work` if the lease is free, else resolves null without running it. */
  async runIfFree<T>(work: () => Promise<T>): Promise<T | null> {
    if (this.redis.status === 'wait') await this.redis.connect();
    if ((await this.redis.set(this.key, this.owner, 'PX', this.ttlMs, 'NX')) !== 'OK') return null;
    try {
      return await work();
    } finally {
      // It may have expired and been taken by another replica: delete it only if still ours.
      await this.redis
        .eval(`if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`, 1, this.key, this.owner)
        .catch(() => undefined);
    }
  }
}

/** A connection of its own for leases and markers: fails fast while Redis is away, and never blocks a caller. */
export function leaseConnection(config: RedisConfig): RedisClient {
  const redis = createRedisClient(config, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  return redis;
}
