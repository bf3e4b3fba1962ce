import { DataSource } from 'typeorm';
import Redis from 'ioredis';
import { PrivateRedis } from '../bench/support/redis-server';
import { IngestQueue, isLive } from '../src/ingest/queue/ingest.queue';
import { ScriptedEmbedder } from './support/scripted-embedder';
import { TestApp, postJson, startApp } from './support/test-app';
import { waitUntil } from './support/wait';

/** Re-enqueue after a wipe must not wait for RECONCILE_AGE_MS: the marker under the queue prefix tells at once. */
const GOAL_MS = 15000;

describe('Redis loss is recognised in seconds', () => {
  const redis = new PrivateRedis();
  let app: TestApp | undefined;
  beforeAll(() => redis.start());
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  afterAll(() => redis.kill());

  /** Posts `n` documents, loses Redis with `wipe` while they are in flight, and returns ms until every unfinished one has a live job again. */
  async function measure(prefix: string, n: number, wipe: () => Promise<void>): Promise<{ ms: number; ids: string[]; db: DataSource }> {
    const slow = new ScriptedEmbedder();
    slow.delayMs = 100;
    // The age path would take two minutes: only the marker can explain a fast re-enqueue.
    const env = { REDIS_URL: redis.url, QUEUE_PREFIX: prefix, WORKER_CONCURRENCY: '2', RECONCILE_AGE_MS: '120000', REDIS_MARKER_CHECK_MS: '1000', REDIS_LOSS_SWEEP: 'true' };
    app = await startApp(env, { api: true, worker: true }, { embeddingProvider: slow });
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const res = await postJson(app.url, '/v1/documents', { content: `document ${i} posted before the wipe`, namespace: prefix });
      expect(res.status).toBe(202);
      ids.push(res.body.id as string);
    }
    const db = app.app.get(DataSource);
    const unfinished = async (): Promise<Array<{ id: string; version: number }>> =>
      db.query(`SELECT id, version FROM documents WHERE namespace = $1 AND status IN ('queued', 'processing')`, [prefix]);
    await waitUntil('some documents to be ready', async () => (await unfinished()).length, (left) => left < n - 5);

    await wipe();
    const wipedAt = Date.now();
    const queue = app.app.get(IngestQueue);
    await waitUntil(
      'every unfinished document to have a live job',
      async () => {
        const docs = await unfinished();
        const states = await Promise.all(docs.map((d) => queue.jobStateOf({ documentId: d.id, version: d.version }).catch(() => 'unknown' as const)));
        return states.filter((s) => !isLive(s)).length;
      },
      (missing) => missing === 0,
      { timeoutMs: 60000, intervalMs: 100 },
    );
    return { ms: Date.now() - wipedAt, ids, db };
  }

  async function expectAllReadyOnce(db: DataSource, prefix: string, n: number): Promise<void> {
    await waitUntil(
      'every document to be ready',
      async () => (await db.query(`SELECT count(*)::int AS n FROM documents WHERE namespace = $1 AND status = 'ready'`, [prefix]))[0].n as number,
      (ready) => ready === n,
      { timeoutMs: 120000, intervalMs: 200 },
    );
    // Nothing duplicated: each document holds exactly its chunk_count chunks.
    const off = await db.query(
      `SELECT d.id FROM documents d WHERE d.namespace = $1 AND d.chunk_count <> (SELECT count(*) FROM chunks c WHERE c.document_id = d.id)`,
      [prefix],
    );
    expect(off).toEqual([]);
  }

  it(`after FLUSHALL, every unfinished document of 300 is re-enqueued within ${GOAL_MS / 1000} s`, async () => {
    const { ms, db } = await measure('wipe-flush', 300, async () => {
      const direct = new Redis({ port: redis.port });
      await direct.flushall();
      direct.disconnect();
    });
    process.stdout.write(`re-enqueued after FLUSHALL in ${ms} ms\n`);
    expect(ms).toBeLessThan(GOAL_MS);
    await expectAllReadyOnce(db, 'wipe-flush', 300);
  });

  it(`after a restart with no persistence, every unfinished document is re-enqueued within ${GOAL_MS / 1000} s`, async () => {
    const { ms, db } = await measure('wipe-restart', 100, async () => {
      await redis.kill();
      await redis.start();
    });
    process.stdout.write(`re-enqueued after a Redis restart in ${ms} ms\n`);
    expect(ms).toBeLessThan(GOAL_MS);
    await expectAllReadyOnce(db, 'wipe-restart', 100);
  });
});
