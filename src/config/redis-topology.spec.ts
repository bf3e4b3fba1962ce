import { Cluster } from 'ioredis';
import { createRedisClient } from '../common/redis-client';
import { redisOptions } from '../common/redis-options';
import { ConfigError, loadConfig } from './app-config';

describe('Redis Cluster and Sentinel settings', () => {
  it('reads cluster nodes and hash-tags the default queue prefix', () => {
    const c = loadConfig({ REDIS_CLUSTER_NODES: 'r1:7000, r2:7001,[::1]:7002', REDIS_URL: 'redis://:pw@ignored:1' });
    expect(c.redis.clusterNodes).toEqual([
      { host: 'r1', port: 7000 },
      { host: 'r2', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    expect(c.queue.prefix).toBe('{ingest}');
  });

  it('refuses a cluster prefix without a hash tag, and a malformed node', () => {
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'r1:7000', QUEUE_PREFIX: 'ingest' })).toThrow(
      /QUEUE_PREFIX="ingest": must contain a hash tag on a Redis Cluster, e.g. "\{ingest\}"/,
    );
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'r1' })).toThrow(/REDIS_CLUSTER_NODES="r1": "r1" is not host:port/);
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'r1:7000', REDIS_SENTINELS: 's:26379' })).toThrow(ConfigError);
  });

  it('keeps a plain prefix on a standalone Redis', () => {
    expect(loadConfig({}).queue.prefix).toBe('ingest');
  });

  it('connects through sentinels to the named primary, with the primary credentials from REDIS_URL', () => {
    const c = loadConfig({ REDIS_SENTINELS: 's1:26379,s2:26379', REDIS_SENTINEL_NAME: 'jobs', REDIS_URL: 'redis://:pw@x:6379/1' });
    expect(redisOptions(c.redis)).toMatchObject({
      sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26379 }],
      name: 'jobs',
      password: 'pw',
      sentinelPassword: undefined,
      db: 1,
    });
  });

  it('opens an ioredis Cluster for cluster nodes, passing credentials to every node', () => {
    const c = loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:1', REDIS_URL: 'redis://:pw@x:6379' });
    const client = createRedisClient(c.redis, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      expect(client).toBeInstanceOf(Cluster);
      expect((client as Cluster).options.redisOptions).toMatchObject({ password: 'pw', maxRetriesPerRequest: 1 });
    } finally {
      client.disconnect();
    }
  });
});
