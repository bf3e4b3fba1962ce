import { randomUUID } from 'node:crypto';
import { Cluster } from 'ioredis';
import { createRedisClient } from '../src/common/redis-client';
import { loadConfig } from '../src/config/app-config';
import { RateLimiter, RateLimitedException } from '../src/auth/rate-limiter';
import { OPEN_PRINCIPAL } from '../src/auth/principal';
import { RedisRateBudget } from '../src/embedding/rate-budget';
import { Reconciler } from '../src/ingest/worker/reconciler.service';
import { LocalRedisCluster } from './support/redis-topologies';
import { openSse } from './support/sse-client';
import { TestApp, isSettled, postJson, startApp, waitForDocument } from './support/test-app';

/** The service on a real three-master Redis Cluster, started on loopback ports by the test. */
describe('Redis Cluster', () => {
  const cluster = new LocalRedisCluster();
  const prefix = `{test-${randomUUID().slice(0, 8)}}`;
  let t: TestApp;

  beforeAll(async () => {
    await cluster.start(3);
    t = await startApp({ REDIS_CLUSTER_NODES: cluster.nodes, QUEUE_PREFIX: prefix, RECONCILE_INTERVAL_MS: '3600000' });
  }, 60000);
  afterAll(async () => {
    await t?.close();
    await cluster.stop();
  });

  it('documents flow from the API through the workers to ready, every queue key in one slot', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await postJson(t.url, '/v1/documents', { content: `Cluster document ${i}: shards hold slots.`, namespace: `cluster-${prefix.slice(1, -1)}` });
      expect(res.status).toBe(202);
      ids.push(res.body.id);
    }
    for (const id of ids) expect(await waitForDocument(t.url, id, isSettled)).toMatchObject({ status: 'ready' });

    const byNode = await cluster.keysByNode(`${prefix}*`);
    const holders = [...byNode.entries()].filter(([, keys]) => keys.length > 0);
    // One master holds all of them: a multi-key BullMQ script would fail with CROSSSLOT otherwise.
    expect(holders).toHaveLength(1);
    expect(holders[0][1]).toEqual(expect.arrayContaining([`${prefix}:ingest:meta`]));
  });

  it('live status events go through the cluster: recorded there, and streamed from there', async () => {
    const ns = `events-${prefix.slice(1, -1)}`;
    const stream = await openSse(`${t.url}/v1/events?namespace=${ns}`);
    expect(stream.status).toBe(200);
    const client = createRedisClient(loadConfig({ ...process.env, REDIS_CLUSTER_NODES: cluster.nodes, QUEUE_PREFIX: prefix }).redis) as Cluster;
    try {
      const posted = await postJson(t.url, '/v1/documents', { content: 'A status event travels through the cluster.', namespace: ns });
      expect(posted.status).toBe(202);
      const id = posted.body.id as string;
      await stream.waitFor((e) => (JSON.parse(e.data) as { documentId: string; status: string }).documentId === id && e.data.includes('"ready"'));
      // The namespace's history is a stream in the cluster, under the queue prefix's slot.
      const history = await client.xrange(`${prefix}:events:ns:${ns}`, '-', '+');
      const statuses = history.map(([, fields]) => (JSON.parse(fields[1]) as { documentId: string; status: string })).filter((e) => e.documentId === id);
      expect(statuses.map((e) => e.status)).toEqual(expect.arrayContaining(['queued', 'processing', 'ready']));
    } finally {
      stream.close();
      client.disconnect();
    }
  });

  it('rate budgets are counted in the cluster', async () => {
    const config = loadConfig({ ...process.env, REDIS_CLUSTER_NODES: cluster.nodes, QUEUE_PREFIX: prefix, RATE_LIMIT_WRITE_PER_MIN: '2' });
    const limiter = new RateLimiter(config);
    const client = createRedisClient(config.redis) as Cluster;
    try {
      const address = `cluster-${randomUUID()}`;
      // All three in one minute's window.
      const leftInWindow = 60000 - (Date.now() % 60000);
      if (leftInWindow < 2000) await new Promise((r) => setTimeout(r, leftInWindow + 50));
      expect(await limiter.hit('write', OPEN_PRINCIPAL, address)).toMatchObject({ limit: 2, remaining: 1 });
      expect(await limiter.hit('write', OPEN_PRINCIPAL, address)).toMatchObject({ remaining: 0 });
      await expect(limiter.hit('write', OPEN_PRINCIPAL, address)).rejects.toBeInstanceOf(RateLimitedException);
      const window = Math.floor(Date.now() / 60000);
      expect(Number(await client.get(`${prefix}:ratelimit:write:addr:${address}:${window}`))).toBe(3);
    } finally {
      await limiter.onModuleDestroy();
      client.disconnect();
    }
  });

  it('the shared rate budget holds across two clients of the cluster', async () => {
    const config = loadConfig({ ...process.env, REDIS_CLUSTER_NODES: cluster.nodes, QUEUE_PREFIX: prefix });
    const options = { keyPrefix: `${prefix}:embedding-rate:test`, requestsPerMinute: 600, tokensPerMinute: 0, burstSeconds: 0.1 };
    const a = RedisRateBudget.owning(createRedisClient(config.redis, RedisRateBudget.tuning), options);
    const b = RedisRateBudget.owning(createRedisClient(config.redis, RedisRateBudget.tuning), options);
    try {
      // 600/min is 10/s with a burst of one: 21 requests from two processes need about 2 s.
      const started = Date.now();
      await Promise.all(Array.from({ length: 21 }, (_, i) => (i % 2 ? a : b).acquire(1)));
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(1800);
      expect(elapsed).toBeLessThan(6000);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("the reconciler's lock lets one replica run at a time", async () => {
    const reconciler = t.app.get(Reconciler);
    const config = loadConfig({ ...process.env, REDIS_CLUSTER_NODES: cluster.nodes, QUEUE_PREFIX: prefix });
    const other = createRedisClient(config.redis) as Cluster;
    try {
      const lock = `${prefix}:reconciler:lock`;
      await other.set(lock, 'another-replica', 'PX', 60000);
      expect(await reconciler.runIfElected()).toBeNull();
      expect(await other.get(lock)).toBe('another-replica');

      await other.del(lock);
      expect(await reconciler.runIfElected()).toMatchObject({ requeued: 0 });
      // Released after the pass, so the next replica may take it.
      expect(await other.get(lock)).toBeNull();
    } finally {
      other.disconnect();
    }
  });
});
