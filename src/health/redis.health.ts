import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/app-config';
import { RedisClient, createRedisClient } from '../common/redis-client';
import { withTimeout } from '../common/with-timeout';

const TIMEOUT_MS = 2000;

/** Redis answers PING. Uses its own connection, which fails fast instead of queueing commands. */
@Injectable()
export class RedisHealthIndicator implements OnApplicationShutdown {
  private readonly client: RedisClient;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly health: HealthIndicatorService,
  ) {
    this.client = createRedisClient(config.redis, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: TIMEOUT_MS,
      retryStrategy: () => 1000,
    });
    // Errors are reported by check(); without a listener ioredis would log each one.
    this.client.on('error', () => undefined);
  }

  async check(): Promise<HealthIndicatorResult> {
    const indicator = this.health.check('redis');
    try {
      if (this.client.status === 'wait') await withTimeout(this.client.connect(), TIMEOUT_MS, 'redis connect');
      await withTimeout(this.client.ping(), TIMEOUT_MS, 'redis');
      return indicator.up();
    } catch (err) {
      return indicator.down({ message: err instanceof Error ? err.message : String(err) });
    }
  }

  // Last of the shutdown hooks: while the others drain, readiness must still say why it is
  // down ("shutting down", set in onModuleDestroy), not that its own connection is gone.
  onApplicationShutdown(): void {
    this.client.disconnect();
  }
}
