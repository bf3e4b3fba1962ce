import { Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { Cluster, RedisOptions } from 'ioredis';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/app-config';
import { createRedisClient } from './redis-client';
import { redisOptions } from './redis-options';

/**
 * BullMQ's connection. Plain options for a standalone Redis or Sentinel (BullMQ opens and
 * closes its own connections); on a Redis Cluster one shared ioredis `Cluster`, as BullMQ
 * takes a cluster only as an instance, closed here after the queues and workers.
 */
@Injectable()
export class QueueConnection implements OnApplicationShutdown {
  readonly connection: RedisOptions | Cluster;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.connection = config.redis.clusterNodes
      ? // BullMQ's blocking commands must never be retried by ioredis.
        (createRedisClient(config.redis, { maxRetriesPerRequest: null, connectionName: 'bullmq' }) as Cluster)
      : redisOptions(config.redis);
  }

  async onApplicationShutdown(): Promise<void> {
    const c = this.connection;
    if (c instanceof Cluster) await c.quit().catch(() => c.disconnect());
  }
}

@Global()
@Module({ providers: [QueueConnection], exports: [QueueConnection] })
export class QueueConnectionModule {}
