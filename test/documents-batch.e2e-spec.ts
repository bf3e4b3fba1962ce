import { getQueueToken } from '@nestjs/bullmq';
import { getDataSourceToken } from '@nestjs/typeorm';
import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { DocumentVersionsRepository } from '../src/documents/document-versions.repository';
import { INGEST_QUEUE } from '../src/ingest/queue/ingest.jobs';
import { TestApp, startApp } from './support/test-app';

interface BatchResult {
  index: number;
  status: 'accepted' | 'deduplicated' | 'rejected';
  id?: string;
  version?: number;
  error?: string;
}

describe('POST /v1/documents/batch', () => {
  let t: TestApp;
  let queue: Queue;
  let db: DataSource;
  const run = Date.now();
  let n = 0;
  // Each test its own namespace, so counts never see another test's rows.
  const freshNamespace = () => `batch-${run}-${++n}`;

  beforeAll(async () => {
    // No worker: every job added stays in the queue to be counted.
    t = await startApp({ BATCH_MAX_DOCUMENTS: '50' }, { api: true, worker: false });
    queue = t.app.get<Queue>(getQueueToken(INGEST_QUEUE));
    db = t.app.get<DataSource>(getDataSourceToken());
  });
  afterAll(async () => {
    await queue.obliterate({ force: true });
    await t.close();
  });
  afterEach(async () => {
    await queue.drain(true);
  });

  async function postBatch(body: unknown, idempotencyKey?: string): Promise<{ status: number; body: any }> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    const res = await fetch(`${t.url}/v1/documents/batch`, { method: 'POST', headers, body: JSON.stringify(body) });
    return { status: res.status, body: await res.json() };
  }

  // The document and version each job names (its request id is the request's, whatever it is).
  const waitingJobs = async () =>
    (await queue.getJobs(['waiting'])).map((j) => {
      const { documentId, version } = j.data as { documentId: string; version: number };
      return { documentId, version };
    });
  const rowsIn = async (ns: string) =>
    (await db.query(`SELECT id, external_id, version FROM documents WHERE namespace = $1 ORDER BY external_id`, [ns])) as Array<{
      id: string;
      external_id: string | null;
      version: number;
    }>;

  it('rejects bad items alone, with their reasons, and records and enqueues the good ones in request order', async () => {
    const ns = freshNamespace();
    const res = await postBatch({
      documents: [
        { content: 'first good document', externalId: 'a', namespace: ns },
        { externalId: 'b', namespace: ns },
        { content: 'unknown field', colour: 'red', namespace: ns },
        'not an object',
        { content: 'bad chunking', namespace: ns, chunking: { size: 100, overlap: 100 } },
      ],
    });
    expect(res.status).toBe(200);
    const results = res.body.results as BatchResult[];
    expect(results.map((r) => [r.index, r.status])).toEqual([
      [0, 'accepted'],
      [1, 'rejected'],
      [2, 'rejected'],
      [3, 'rejected'],
      [4, 'rejected'],
    ]);
    expect(results[1].error).toMatch(/content is required/);
    expect(results[2].error).toMatch(/property colour should not exist/);
    expect(results[3].error).toMatch(/must be a JSON object/);
    expect(results[4].error).toMatch(/overlap \(100\) must be smaller than chunking\.size \(100\)/);
    expect(results[0]).toMatchObject({ version: 1, id: expect.any(String) });
    expect(results[1].id).toBeUndefined();

    expect(await rowsIn(ns)).toEqual([{ id: results[0].id, external_id: 'a', version: 1 }]);
    expect(await waitingJobs()).toEqual([{ documentId: results[0].id, version: 1 }]);
  });

  it('enqueues every accepted document with one addBulk', async () => {
    const ns = freshNamespace();
    const addBulk = jest.spyOn(Queue.prototype, 'addBulk');
    const add = jest.spyOn(Queue.prototype, 'add');
    try {
      const res = await postBatch({ documents: [1, 2, 3].map((i) => ({ content: `document ${i}`, externalId: `d${i}`, namespace: ns })) });
      expect(res.status).toBe(200);
      expect(addBulk).toHaveBeenCalledTimes(1);
      expect(addBulk.mock.calls[0][0]).toHaveLength(3);
      expect(add).not.toHaveBeenCalled();
    } finally {
      addBulk.mockRestore();
      add.mockRestore();
    }
    expect(await rowsIn(ns)).toHaveLength(3);
  });

  it('deduplicates inside a batch and against what is stored; a document changed twice is processed once', async () => {
    const ns = freshNamespace();
    const first = await postBatch({
      documents: [
        { content: 'same text', externalId: 'same', namespace: ns },
        { content: 'same text', externalId: 'same', namespace: ns },
        { content: 'version one', externalId: 'changed', namespace: ns },
        { content: 'version two', externalId: 'changed', namespace: ns },
      ],
    });
    const r = first.body.results as BatchResult[];
    expect(r.map((x) => x.status)).toEqual(['accepted', 'deduplicated', 'accepted', 'accepted']);
    expect(r[1]).toMatchObject({ id: r[0].id, version: 1 });
    expect(r[3]).toMatchObject({ id: r[2].id, version: 2 });
    expect(r[2].version).toBe(1);
    const jobs = await waitingJobs();
    expect(jobs).toHaveLength(2);
    expect(jobs).toEqual(expect.arrayContaining([{ documentId: r[0].id, version: 1 }, { documentId: r[2].id, version: 2 }]));

    await queue.drain(true);
    const again = await postBatch({ documents: [{ content: 'same text', externalId: 'same', namespace: ns }] });
    expect(again.body.results).toEqual([{ index: 0, status: 'deduplicated', id: r[0].id, version: 1 }]);
    expect(await waitingJobs()).toEqual([]);
  });

  it('answers a re-posted batch that changes nothing without a transaction; the rest is recorded as before', async () => {
    const ns = freshNamespace();
    const doc = (key: string, content: string) => ({ content, externalId: key, namespace: ns });
    const first = (await postBatch({ documents: [doc('a', 'alpha'), doc('b', 'beta'), doc('c', 'gamma')] })).body.results as BatchResult[];
    await queue.drain(true);
    const versions = t.app.get(DocumentVersionsRepository);
    const transaction = jest.spyOn(versions, 'transaction');
    try {
      const same = await postBatch({ documents: [doc('a', 'alpha'), doc('b', 'beta'), doc('c', 'gamma')] });
      expect(same.body.results).toEqual(first.map((r) => ({ index: r.index, status: 'deduplicated', id: r.id, version: 1 })));
      expect(transaction).not.toHaveBeenCalled();
      expect(await waitingJobs()).toEqual([]);

      // 'b' changed then changed back in one batch: the second post follows the first, so it is a new version too.
      const mixed = await postBatch({ documents: [doc('a', 'alpha'), doc('b', 'beta two'), doc('b', 'beta'), doc('d', 'delta'), { content: ' ' }] });
      const r = mixed.body.results as BatchResult[];
      expect(r.map((x) => [x.status, x.version])).toEqual([['deduplicated', 1], ['accepted', 2], ['accepted', 3], ['accepted', 1], ['rejected', undefined]]);
      expect(transaction).toHaveBeenCalledTimes(1);
      expect(await waitingJobs()).toEqual(expect.arrayContaining([{ documentId: first[1].id, version: 3 }, { documentId: r[3].id, version: 1 }]));
      expect(await waitingJobs()).toHaveLength(2);
    } finally {
      transaction.mockRestore();
    }
  });

  it('answers concurrent batches that share documents, in any order, without a deadlock', async () => {
    const ns = freshNamespace();
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
    const batch = (order: string[], tag: string) => ({ documents: order.map((k) => ({ content: `${tag} ${k}`, externalId: k, namespace: ns })) });
    const answers = await Promise.all([
      postBatch(batch(keys, 'left')),
      postBatch(batch([...keys].reverse(), 'right')),
      postBatch(batch(keys.filter((_, i) => i % 2 === 0), 'even')),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    for (const a of answers) expect((a.body.results as BatchResult[]).every((r) => r.status === 'accepted')).toBe(true);
    const rows = await rowsIn(ns);
    expect(rows).toHaveLength(40);
    // Each document got one version per batch that changed it.
    expect(rows.filter((r) => r.version === 3)).toHaveLength(20);
    expect(rows.filter((r) => r.version === 2)).toHaveLength(20);
  });

  it('answers a repeated Idempotency-Key with the first answer, and 422 for the key with another body', async () => {
    const ns = freshNamespace();
    const key = `batch-key-${run}`;
    const body = { documents: [{ content: 'idempotent one', namespace: ns }, { content: 'idempotent two', namespace: ns }] };
    const first = await postBatch(body, key);
    expect(first.status).toBe(200);
    await queue.drain(true);
    const second = await postBatch(body, key);
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    // Without an externalId each post would make new documents: the replay made none, and enqueued nothing.
    expect(await rowsIn(ns)).toHaveLength(2);
    expect(await waitingJobs()).toEqual([]);

    const other = await postBatch({ documents: [{ content: 'something else', namespace: ns }] }, key);
    expect(other.status).toBe(422);
    expect(other.body.message).toMatch(/Idempotency-Key was already used with a different request body/);
  });

  it('refuses more documents than BATCH_MAX_DOCUMENTS with 413, recording nothing', async () => {
    const ns = freshNamespace();
    const res = await postBatch({ documents: Array.from({ length: 51 }, (_, i) => ({ content: `doc ${i}`, namespace: ns })) });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
    expect(res.body.message).toMatch(/51 documents; a batch takes at most 50 \(BATCH_MAX_DOCUMENTS\)/);
    expect(await rowsIn(ns)).toEqual([]);
    expect(await waitingJobs()).toEqual([]);
  });

  it('refuses a body that is not a batch with 400', async () => {
    for (const [body, message] of [
      [{}, /documents is required/],
      [{ documents: [] }, /at least one document/],
      [{ documents: { content: 'x' } }, /documents must be an array/],
      [{ documents: [{ content: 'x' }], extra: true }, /property extra should not exist/],
    ] as Array<[unknown, RegExp]>) {
      const res = await postBatch(body);
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(message);
    }
  });
});
