import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/app-config';
import { createRedisClient } from '../common/redis-client';

/**
 * BullMQ keeps jobs as ordinary keys: a Redis that evicts keys under memory pressure
 * silently drops jobs. Warns loudly at start unless `maxmemory-policy` is `noeviction`.
 */
@Injectable()
export class RedisPolicyCheck implements OnApplicationBootstrap {
  private readonly logger = new Logger('Redis');

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  async onApplicationBootstrap(): Promise<void> {
    const redis = createRedisClient(this.config.redis, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2000, retryStrategy: () => null });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      const reply = (await redis.call('CONFIG', 'GET', 'maxmemory-policy')) as string[];
      const policy = reply[1];
      if (policy !== 'noeviction') {
        this.logger.warn(
          `!!! Redis maxmemory-policy is "${policy}", not "noeviction": under memory pressure Redis will delete ` +
            `queued jobs. Set it with: redis-cli CONFIG SET maxmemory-policy noeviction (and in redis.conf) !!!`,
        );
      }
    } catch (err) {
      // Managed Redis often forbids CONFIG; an unreachable one is reported by readiness.
      this.logger.warn(`could not read Redis maxmemory-policy (${String(err)}): make sure it is noeviction`);
    } finally {
      redis.disconnect();
    }
  }
}
