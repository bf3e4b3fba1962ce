import { getQueueToken } from '@nestjs/bullmq';
import { getDataSourceToken } from '@nestjs/typeorm';
import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { INGEST_QUEUE } from '../src/ingest/queue/ingest.jobs';
import { TestApp, postJson, startApp } from './support/test-app';

describe('validation: bad input gets a clear 4xx and enqueues nothing', () => {
  let t: TestApp;
  let queue: Queue;
  let db: DataSource;
  const ns = `validation-${Date.now()}`;

  beforeAll(async () => {
    // No worker: every job that gets added stays visible in the queue.
    t = await startApp({ BODY_LIMIT_BYTES: '4096' }, { api: true, worker: false });
    queue = t.app.get<Queue>(getQueueToken(INGEST_QUEUE));
    db = t.app.get<DataSource>(getDataSourceToken());
  });
  afterAll(async () => {
    await queue.obliterate({ force: true });
    await t.close();
  });

  async function expectNothingRecorded(): Promise<void> {
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(0);
    const rows: Array<{ n: string }> = await db.query(`SELECT count(*) AS n FROM documents WHERE namespace = $1`, [ns]);
    expect(Number(rows[0].n)).toBe(0);
  }

  const cases: Array<[string, unknown, number, RegExp]> = [
    ['missing content', { namespace: ns }, 400, /content is required/],
    ['content of the wrong type', { namespace: ns, content: 42 }, 400, /content must be a string/],
    ['whitespace-only content', { namespace: ns, content: ' \n\t ' }, 400, /content must contain text/],
    ['an unknown field', { namespace: ns, content: 'x', colour: 'red' }, 400, /property colour should not exist/],
    ['metadata that is not an object', { namespace: ns, content: 'x', metadata: [1, 2] }, 400, /metadata must be a JSON object/],
    ['a bad namespace', { namespace: 'no spaces allowed', content: 'x' }, 400, /namespace must be/],
    ['chunking with a non-integer size', { namespace: ns, content: 'x', chunking: { size: 'big', overlap: 0 } }, 400, /chunking\.size must be a whole number/],
    ['chunking overlap not below size', { namespace: ns, content: 'x', chunking: { size: 100, overlap: 100 } }, 400, /overlap \(100\) must be smaller than chunking\.size \(100\)/],
    ['an unknown field inside chunking', { namespace: ns, content: 'x', chunking: { size: 100, overlap: 0, unit: 'tokens' } }, 400, /property unit should not exist/],
    ['malformed JSON', '{"content": "x", ', 400, /not valid JSON/],
  ];

  it.each(cases)('rejects %s', async (_name, body, status, message) => {
    const res = await postJson(t.url, '/v1/documents', body);
    expect(res.status).toBe(status);
    expect(JSON.stringify(res.body.message)).toMatch(message);
    await expectNothingRecorded();
  });

  it('rejects a body over the configured limit with 413', async () => {
    const res = await postJson(t.url, '/v1/documents', { namespace: ns, content: 'a'.repeat(5000) });
    expect(res.status).toBe(413);
    expect(res.body.message).toMatch(/larger than the limit of 4096 bytes/);
    await expectNothingRecorded();
  });

  it('rejects bad search requests with 400', async () => {
    const bad: Array<[unknown, RegExp]> = [
      [{}, /query is required/],
      [{ query: 'x', topK: 0 }, /topK must not be less than 1/],
      [{ query: 'x', topK: 100000 }, /topK must not be greater than 100/],
      [{ query: 'x', filter: { a: { $gt: 1 } } }, /filter\.a must be a string, number or boolean/],
      [{ query: 'x', filter: 'a=1' }, /filter must be an object/],
    ];
    for (const [body, message] of bad) {
      const res = await postJson(t.url, '/v1/search', body);
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body.message)).toMatch(message);
    }
  });

  it('accepts a valid document with 202 and enqueues exactly one job carrying only ids', async () => {
    const res = await postJson(t.url, '/v1/documents', { namespace: `${ns}-ok`, content: 'valid text' });
    expect(res.status).toBe(202);
    const jobs = await queue.getJobs(['waiting']);
    expect(jobs).toHaveLength(1);
    // The id of the request that sent it too, for the worker's log lines.
    expect(jobs[0].data).toEqual({ documentId: res.body.id, version: 1, requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(jobs[0].id).toBe(`doc-${res.body.id}-v1`);
  });

  it('reports no model for a document whose chunks are not written yet', async () => {
    // No worker runs here, so the document stays queued with no chunks.
    const res = await postJson(t.url, '/v1/documents', { namespace: `${ns}-unembedded`, content: 'not embedded yet' });
    expect(res.status).toBe(202);
    const doc = await (await fetch(`${t.url}/v1/documents/${res.body.id}`)).json();
    expect(doc).toMatchObject({ status: 'queued', model: null });
    const page = (await (await fetch(`${t.url}/v1/documents?namespace=${ns}-unembedded`)).json()) as { items: unknown[] };
    expect(page.items).toEqual([expect.objectContaining({ id: res.body.id, model: null })]);
  });
});
