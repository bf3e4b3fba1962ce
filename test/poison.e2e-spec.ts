import { getQueueToken } from '@nestjs/bullmq';
import { Job, Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { INGEST_QUEUE, IngestDocumentPayload } from '../src/ingest/queue/ingest.jobs';
import { WorkerCrashes } from '../src/ingest/worker/worker-crashes';
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

/**
 * The crash past the stall limit reaches the service as two events at about the same time,
 * `stalled` and `failed`, possibly in different workers: whichever is handled first, the
 * history holds that crash once, before the final failure.
 */
describe('the last crash of a poison document', () => {
  let t: TestApp;
  let queue: Queue;
  let crashes: WorkerCrashes;
  const namespace = `poison-order-${process.pid}`;
  beforeAll(async () => {
    t = await startApp({ QUEUE_MAX_STALLED: '1' }, { api: true, worker: true });
    queue = t.app.get<Queue>(getQueueToken(INGEST_QUEUE));
    // No worker takes the jobs: the test plays BullMQ's stall checker itself.
    await queue.pause();
    crashes = t.app.get(WorkerCrashes);
  }, 60000);
  afterAll(() => t?.close());

  /** A queued document whose job BullMQ's stall script marked to fail, as it does past the limit. */
  async function pastStallLimit(content: string): Promise<{ id: string; job: Job<IngestDocumentPayload> }> {
    const { body } = await postJson(t.url, '/v1/documents', { content, namespace });
    const jobs = await queue.getJobs(['wait', 'paused']);
    const job = jobs.find((j) => (j.data as IngestDocumentPayload).documentId === body.id) as Job<IngestDocumentPayload>;
    await (await queue.client).hset(`${queue.qualifiedName}:${job.id!}`, { defa: 'job stalled more than allowable limit' });
    return { id: body.id as string, job: (await Job.fromId<IngestDocumentPayload, unknown>(queue, job.id!))! };
  }

  const crashHistory = async (id: string): Promise<string[]> => {
    const doc = (await (await fetch(`${t.url}/v1/documents/${id}`)).json()) as { status: string; history: Array<{ outcome: string; errorClass: string }> };
    expect(doc.status).toBe('failed');
    return doc.history.filter((a) => a.errorClass === 'worker_crash').map((a) => a.outcome);
  };
  const stallLimit = new Error('job stalled more than allowable limit');

  it('records it when `failed` is handled before `stalled`', async () => {
    const { id, job } = await pastStallLimit('failed first');
    await crashes.failed(job, stallLimit);
    await crashes.stalled(job.id!, () => Promise.resolve(job));
    expect(await crashHistory(id)).toEqual(['retry', 'failed']);
  });

  it('records it once when `stalled` is handled first', async () => {
    const { id, job } = await pastStallLimit('stalled first');
    await crashes.stalled(job.id!, () => Promise.resolve(job));
    await crashes.failed(job, stallLimit);
    expect(await crashHistory(id)).toEqual(['retry', 'failed']);
  });

  it('records a stall under the limit as a retry, the document still waiting', async () => {
    const { body } = await postJson(t.url, '/v1/documents', { content: 'an ordinary stall', namespace });
    const job = (await queue.getJobs(['wait', 'paused'])).find((j) => (j.data as IngestDocumentPayload).documentId === body.id) as Job<IngestDocumentPayload>;
    await crashes.stalled(job.id!, () => Promise.resolve(job));
    const doc = (await (await fetch(`${t.url}/v1/documents/${body.id as string}`)).json()) as { status: string; history: Array<{ outcome: string; errorClass: string }> };
    expect(doc.status).toBe('queued');
    expect(doc.history.map((a) => [a.outcome, a.errorClass])).toEqual([['retry', 'worker_crash']]);
  });
});
