import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { IngestProcessor } from '../src/ingest/worker/ingest.processor';
import { INGEST_QUEUE } from '../src/ingest/queue/ingest.jobs';
import { TestApp, postJson, startApp, waitForDocument } from './support/test-app';
import { waitUntil } from './support/wait';

/** The smallest WORKER_STUCK_AFTER_MS the service takes. */
const STUCK_AFTER_MS = 1000;

describe('worker liveness: a worker that stopped consuming is reported not live', () => {
  let t: TestApp;
  let processor: IngestProcessor;
  let queue: Queue;

  beforeAll(async () => {
    t = await startApp({ WORKER_STUCK_AFTER_MS: String(STUCK_AFTER_MS) });
    processor = t.app.get(IngestProcessor);
    queue = t.app.get<Queue>(getQueueToken(INGEST_QUEUE));
  });
  afterAll(() => t.close());

  const live = async (): Promise<{ status: number; body: string }> => {
    const res = await fetch(`${t.url}/health/live`);
    return { status: res.status, body: await res.text() };
  };

  it('stays live while idle with nothing waiting', async () => {
    // Idle for longer than WORKER_STUCK_AFTER_MS: only the empty queue keeps it live now.
    const idle = await waitUntil(
      'the worker to be idle for longer than WORKER_STUCK_AFTER_MS',
      () => processor.consumerState(),
      (s) => s.running && s.inFlight === 0 && Date.now() - s.lastStartedAt > STUCK_AFTER_MS,
      { timeoutMs: STUCK_AFTER_MS + 10000 },
    );
    expect(await queue.getWaitingCount()).toBe(0);
    expect((await live()).status).toBe(200);
    // Still idle while it answered.
    expect(processor.consumerState()).toMatchObject({ inFlight: 0, lastStartedAt: idle.lastStartedAt });
  });

  it('reports down when jobs wait and the worker has started none for WORKER_STUCK_AFTER_MS', async () => {
    // Stands in for a consumer whose blocking connection is wedged: it still runs, but
    // fetches nothing (the queue is paused for every worker).
    await queue.pause();
    let id: string;
    try {
      const res = await postJson(t.url, '/v1/documents', { content: 'waiting for a wedged worker', namespace: 'liveness' });
      id = res.body.id;
      const down = await waitUntil('liveness to report the wedged worker', live, (r) => r.status === 503, { timeoutMs: STUCK_AFTER_MS + 10000 });
      expect(down.body).toMatch(/1 job\(s\) waiting but none started/);
      expect(processor.consumerState()).toMatchObject({ running: true, inFlight: 0 });
      expect(Date.now() - processor.consumerState().lastStartedAt).toBeGreaterThan(STUCK_AFTER_MS);
    } finally {
      await queue.resume();
    }
    await waitForDocument(t.url, id, (d) => d.status === 'ready');
    expect((await live()).status).toBe(200);
  });
});
