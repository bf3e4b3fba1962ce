import { IngestProcessor } from '../src/ingest/worker/ingest.processor';
import { TestApp, postJson, startApp, waitForDocument } from './support/test-app';

describe('worker liveness: a worker that stopped consuming is reported not live', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp({ WORKER_STUCK_AFTER_MS: '1500' });
  });
  afterAll(() => t.close());

  const live = async (): Promise<{ status: number; body: string }> => {
    const res = await fetch(`${t.url}/health/live`);
    return { status: res.status, body: await res.text() };
  };

  it('stays live while idle with nothing waiting', async () => {
    await new Promise((r) => setTimeout(r, 2000));
    expect((await live()).status).toBe(200);
  });

  it('reports down when jobs wait and the worker has started none for WORKER_STUCK_AFTER_MS', async () => {
    const worker = t.app.get(IngestProcessor).worker;
    // Stands in for a consumer whose blocking connection is wedged: it still says it runs,
    // but fetches nothing.
    await worker.pause();
    const isRunning = jest.spyOn(worker, 'isRunning').mockReturnValue(true);
    const res = await postJson(t.url, '/v1/documents', { content: 'waiting for a wedged worker', namespace: 'liveness' });
    await new Promise((r) => setTimeout(r, 2500));
    const down = await live();
    expect(down.status).toBe(503);
    expect(down.body).toMatch(/1 job\(s\) waiting but none started/);

    isRunning.mockRestore();
    worker.resume();
    await waitForDocument(t.url, res.body.id, (d) => d.status === 'ready');
    expect((await live()).status).toBe(200);
  });
});
