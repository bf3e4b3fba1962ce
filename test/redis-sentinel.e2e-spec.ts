import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { LocalRedisSentinel } from './support/redis-topologies';
import { TestApp, isSettled, postJson, startApp, waitForDocument } from './support/test-app';

/** The service finding its Redis through a real Sentinel started by the test. */
describe('Redis Sentinel', () => {
  const sentinel = new LocalRedisSentinel();
  const prefix = `test-${randomUUID().slice(0, 8)}`;
  let t: TestApp;

  beforeAll(async () => {
    await sentinel.start('jobs');
    // REDIS_URL points nowhere useful: only the sentinel knows where the primary is.
    t = await startApp({
      REDIS_URL: 'redis://127.0.0.1:1',
      REDIS_SENTINELS: `127.0.0.1:${sentinel.sentinelPort}`,
      REDIS_SENTINEL_NAME: 'jobs',
      QUEUE_PREFIX: prefix,
    });
  }, 60000);
  afterAll(async () => {
    await t?.close();
    await sentinel.stop();
  });

  it('documents flow through the primary the sentinel names, and readiness reports Redis up', async () => {
    const res = await postJson(t.url, '/v1/documents', { content: 'Sentinels name the primary.', namespace: prefix });
    expect(res.status).toBe(202);
    expect(await waitForDocument(t.url, res.body.id, isSettled)).toMatchObject({ status: 'ready' });
    expect(((await (await fetch(`${t.url}/health/ready`)).json()) as { info: Record<string, { status: string }> }).info.redis.status).toBe('up');

    const primary = new Redis({ port: sentinel.primaryPort });
    try {
      expect(await primary.exists(`${prefix}:ingest:meta`)).toBe(1);
    } finally {
      primary.disconnect();
    }
  });
});
