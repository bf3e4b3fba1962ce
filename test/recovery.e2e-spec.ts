import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { INGEST_QUEUE, ingestJobId } from '../src/ingest/queue/ingest.jobs';
import { PrivateRedis } from '../bench/support/redis-server';
import { ScriptedEmbedder } from './support/scripted-embedder';
import { TestApp, isSettled, postJson, startApp, waitForDocument } from './support/test-app';
import { waitUntil } from './support/wait';

describe('recovery: Redis restarted empty, and SIGTERM drain', () => {
  const redis = new PrivateRedis();
  const opened: TestApp[] = [];
  const start = async (...args: Parameters<typeof startApp>): Promise<TestApp> => {
    const app = await startApp(...args);
    opened.push(app);
    return app;
  };

  beforeAll(() => redis.start());
  afterAll(async () => {
    for (const app of opened) await app.close().catch(() => undefined);
    await redis.kill();
  });

  it('after Redis loses every job, the reconciler re-enqueues and every document reaches ready', async () => {
    const env = { REDIS_URL: redis.url, QUEUE_PREFIX: 'recovery', RECONCILE_INTERVAL_MS: '200', RECONCILE_AGE_MS: '300' };
    const api = await start(env, { api: true, worker: false });
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const res = await postJson(api.url, '/v1/documents', { content: `recoverable document ${i}`, namespace: 'recovery' });
      expect(res.status).toBe(202);
      ids.push(res.body.id);
    }
    const queue = api.app.get<Queue>(getQueueToken(INGEST_QUEUE));
    expect(await queue.getWaitingCount()).toBe(30);
    // The jobs live in the configured Redis (not in some default one).
    const direct = new Redis({ port: redis.port });
    expect(await direct.llen('recovery:ingest:wait')).toBe(30);
    direct.disconnect();

    await redis.kill();
    // Accepted while Redis is down: the API still answers 202, the document is in Postgres.
    const during = await postJson(api.url, '/v1/documents', { content: 'posted during the outage', namespace: 'recovery' });
    expect(during.status).toBe(202);
    ids.push(during.body.id);
    await redis.start();

    await start(env, { api: false, worker: true });
    for (const id of ids) {
      expect(await waitForDocument(api.url, id, isSettled, 30000)).toMatchObject({ status: 'ready' });
    }
    // Its reconciler would otherwise adopt the next test's waiting documents.
    for (const app of opened.splice(0)) await app.close();
  });

  it('rebuilds the dead-letter queue from Postgres after Redis loses it', async () => {
    const env = { REDIS_URL: redis.url, QUEUE_PREFIX: 'dlq-rebuild', RECONCILE_INTERVAL_MS: '200', RECONCILE_AGE_MS: '300' };
    const poisoned = new ScriptedEmbedder();
    poisoned.fault = (texts) => (texts.some((x) => x.includes('POISON')) ? 'permanent' : undefined);
    const app = await start(env, { api: true, worker: true }, { embeddingProvider: poisoned });
    const res = await postJson(app.url, '/v1/documents', { content: 'POISON for the rebuild', namespace: 'dlq-rebuild' });
    await waitForDocument(app.url, res.body.id, (d) => d.status === 'failed');
    const direct = new Redis({ port: redis.port });
    const key = `dlq-rebuild:ingest-dlq:dead-${res.body.id}-v1`;
    const waitFor = async (present: number): Promise<void> => {
      const deadline = Date.now() + 10000;
      while ((await direct.exists(key).catch(() => -1)) !== present && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await direct.exists(key)).toBe(present);
    };
    await waitFor(1);

    await redis.kill();
    await redis.start();
    await waitFor(1);
    direct.disconnect();
    const list = (await (await fetch(`${app.url}/v1/dead-letters?namespace=dlq-rebuild`)).json()) as { items: Array<{ id: string }> };
    expect(list.items.map((i) => i.id)).toEqual([res.body.id]);
    for (const a of opened.splice(0)) await a.close();
  });

  it('on shutdown a worker finishes the job in flight, takes nothing new, and reports not ready meanwhile', async () => {
    const env = { REDIS_URL: redis.url, QUEUE_PREFIX: 'drain', SHUTDOWN_GRACE_MS: '20000' };
    const slow = new ScriptedEmbedder();
    slow.delayMs = 1500;
    const worker = await start({ ...env, WORKER_CONCURRENCY: '1' }, { api: true, worker: true }, { embeddingProvider: slow });
    const api = await start(env, { api: true, worker: false });

    const a = await postJson(api.url, '/v1/documents', { content: 'in flight during shutdown', namespace: 'drain' });
    await waitForDocument(api.url, a.body.id, (d) => d.status === 'processing');
    const closing = worker.close();
    const ready = await waitUntil(
      'readiness to report the drain',
      async () => {
        const res = await fetch(`${worker.url}/health/ready`);
        return { status: res.status, body: JSON.stringify(await res.json()) };
      },
      (r) => r.status === 503,
      { timeoutMs: 10000, intervalMs: 20 },
    );
    // Our drain check ("shutting down") or Terminus's own shutdown answer ("shutting_down"),
    // whichever shutdown hook ran first: either way, not ready because the process is stopping.
    expect(ready.body).toMatch(/shutting[ _]down/);
    const refused = await postJson(worker.url, '/v1/documents', { content: 'refused while draining', namespace: 'drain' });
    expect(refused.status).toBe(503);

    const b = await postJson(api.url, '/v1/documents', { content: 'posted after the signal', namespace: 'drain' });
    // Closed: the worker finished what it had and consumes no more, so what it left is final.
    await closing;
    expect(await waitForDocument(api.url, a.body.id, () => true)).toMatchObject({ status: 'ready' });
    expect(await waitForDocument(api.url, b.body.id, () => true)).toMatchObject({ status: 'queued', attempts: 0 });
    // Its job waits for another worker (handed back, if it was fetched in the instant of the signal).
    const queue = api.app.get<Queue>(getQueueToken(INGEST_QUEUE));
    expect(['waiting', 'delayed']).toContain(await queue.getJobState(ingestJobId({ documentId: b.body.id, version: 1 })));
    expect(slow.calls).toBe(1);
  });
});
