import { DataSource } from 'typeorm';
import { WorkerSupervisor } from './support/worker-supervisor';
import { TestApp, postJson, startApp } from './support/test-app';
import { waitUntil } from './support/wait';

const MAX_STALLED = 2;

/**
 * A document that kills its worker process every time (the test-only FAULT_CRASH_ON_TEXT hook
 * SIGKILLs the process) ends failed with class worker_crash after QUEUE_MAX_STALLED + 1 crashes,
 * dead-lettered with its crash history, while the healthy documents complete.
 */
describe('poison documents', () => {
  const prefix = `poison-${process.pid}`;
  const env = {
    QUEUE_PREFIX: prefix,
    WORKER_CONCURRENCY: '1',
    QUEUE_LOCK_MS: '1000',
    QUEUE_STALLED_INTERVAL_MS: '500',
    QUEUE_MAX_STALLED: String(MAX_STALLED),
    FAULT_CRASH_ON_TEXT: 'POISON-PILL',
  };
  const workers = new WorkerSupervisor(env);
  let api: TestApp | undefined;
  afterAll(async () => {
    await workers.stop();
    await api?.close();
  });

  it('fails the poison as worker_crash after a bounded number of crashes; the others complete', async () => {
    api = await startApp(env, { api: true, worker: false });
    const db = api.app.get(DataSource);
    workers.start(2);
    const post = async (content: string): Promise<string> => (await postJson(api!.url, '/v1/documents', { content, namespace: prefix })).body.id as string;
    const poison = await post('this document crashes its worker: POISON-PILL');
    const healthy: string[] = [];
    for (let i = 0; i < 10; i++) healthy.push(await post(`healthy document number ${i}`));

    const statuses = async (): Promise<Record<string, string>> =>
      Object.fromEntries(((await db.query(`SELECT id, status FROM documents WHERE namespace = $1`, [prefix])) as Array<{ id: string; status: string }>).map((r) => [r.id, r.status]));
    try {
      await waitUntil(
        'the poison to fail and the others to be ready',
        statuses,
        (s) => s[poison] === 'failed' && healthy.every((id) => s[id] === 'ready'),
        { timeoutMs: 220000, intervalMs: 500 },
      );
    } catch (err) {
      throw new Error(`${String(err)}\n${workers.log.slice(-40).join('\n')}`);
    }
    // One crash per delivery: the first, then one per stall allowed.
    expect(workers.exits).toBe(MAX_STALLED + 1);

    const doc = (await (await fetch(`${api.url}/v1/documents/${poison}`)).json()) as {
      lastErrorClass: string;
      history: Array<{ outcome: string; errorClass: string }>;
    };
    expect(doc.lastErrorClass).toBe('worker_crash');
    // Each crash recorded as it was found, then the final failure.
    const crashes = doc.history.filter((a) => a.errorClass === 'worker_crash');
    expect(crashes.map((a) => a.outcome)).toEqual([...Array<string>(MAX_STALLED + 1).fill('retry'), 'failed']);

    const dead = (await (await fetch(`${api.url}/v1/dead-letters?namespace=${prefix}`)).json()) as { items: Array<{ id: string; errorClass: string }> };
    expect(dead.items).toEqual([expect.objectContaining({ id: poison, errorClass: 'worker_crash' })]);
    // Each worker start transpiles the sources: slow on a loaded machine.
  }, 300000);
});
