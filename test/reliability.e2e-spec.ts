import { getQueueToken } from '@nestjs/bullmq';
import { getDataSourceToken } from '@nestjs/typeorm';
import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { CAPPED_BACKOFF } from '../src/ingest/queue/backoff';
import { DEAD_LETTER_QUEUE, INGEST_QUEUE, ingestJobId } from '../src/ingest/queue/ingest.jobs';
import { jobOutcome } from './support/job-outcome';
import { ScriptedEmbedder } from './support/scripted-embedder';
import { TestApp, isSettled, postJson, startApp, waitForDocument } from './support/test-app';

interface DeadLetterList {
  items: Array<{ id: string; errorClass: string; stage: string; attempts: number; payload: { documentId: string; version: number }; history: Array<{ attempt: number; outcome: string; errorClass: string }> }>;
  nextCursor: string | null;
}

describe('reliability: retries, dead letters, idempotency, drain', () => {
  const embedder = new ScriptedEmbedder();
  let t: TestApp;
  let db: DataSource;
  let dlq: Queue;
  let queue: Queue;

  beforeAll(async () => {
    t = await startApp({ QUEUE_ATTEMPTS: '4', QUEUE_BACKOFF_MS: '20', QUEUE_BACKOFF_MAX_MS: '100' }, { api: true, worker: true }, { embeddingProvider: embedder });
    db = t.app.get<DataSource>(getDataSourceToken());
    dlq = t.app.get<Queue>(getQueueToken(DEAD_LETTER_QUEUE));
    queue = t.app.get<Queue>(getQueueToken(INGEST_QUEUE));
  });
  afterAll(async () => {
    await queue.obliterate({ force: true });
    await dlq.obliterate({ force: true });
    await t.close();
  });
  beforeEach(() => {
    embedder.fault = () => undefined;
    embedder.delayMs = 0;
  });

  const attemptsOf = (id: string): Promise<Array<{ attempt: number; outcome: string; stage: string | null; error_class: string | null }>> =>
    db.query(`SELECT attempt, outcome, stage, error_class FROM document_attempts WHERE document_id = $1 ORDER BY id`, [id]);

  it('retries a transient embedding failure with backoff, then succeeds, recording every attempt', async () => {
    embedder.fault = (texts) => (texts.some((x) => x.includes('flaky-twice')) && failures.count++ < 2 ? 'transient' : undefined);
    const failures = { count: 0 };
    const res = await postJson(t.url, '/v1/documents', { content: 'flaky-twice document text', namespace: 'rel' });
    const done = await waitForDocument(t.url, res.body.id, isSettled);
    expect(done).toMatchObject({ status: 'ready', attempts: 3, lastError: null });
    expect(await attemptsOf(res.body.id)).toEqual([
      { attempt: 1, outcome: 'retry', stage: 'embed', error_class: 'embedding_unavailable' },
      { attempt: 2, outcome: 'retry', stage: 'embed', error_class: 'embedding_unavailable' },
      { attempt: 3, outcome: 'ready', stage: null, error_class: null },
    ]);
  });

  it('a transient failure that never ends uses every attempt, then dead-letters the document', async () => {
    embedder.fault = (texts) => (texts.some((x) => x.includes('always-down')) ? 'transient' : undefined);
    const res = await postJson(t.url, '/v1/documents', { content: 'always-down document', namespace: 'rel-exhaust' });
    const done = await waitForDocument(t.url, res.body.id, isSettled);
    expect(done).toMatchObject({ status: 'failed', attempts: 4 });
    expect(done.lastError).toContain('503');
    // Its retries waited by the workers' capped, jittered strategy (QUEUE_BACKOFF_MS, QUEUE_BACKOFF_MAX_MS).
    expect((await queue.getJob(ingestJobId({ documentId: res.body.id, version: 1 })))?.opts.backoff).toEqual({ type: CAPPED_BACKOFF });
    const list = (await (await fetch(`${t.url}/v1/dead-letters?namespace=rel-exhaust`)).json()) as DeadLetterList;
    expect(list.items).toHaveLength(1);
    expect(list.items[0]).toMatchObject({ id: res.body.id, errorClass: 'embedding_unavailable', stage: 'embed', attempts: 4 });
    expect(list.items[0].history.map((h) => h.outcome)).toEqual(['retry', 'retry', 'retry', 'failed']);
    const dlqJob = await dlq.getJob(`dead-${res.body.id}-v1`);
    expect(dlqJob?.data).toMatchObject({ original: { documentId: res.body.id, version: 1 }, errorClass: 'embedding_unavailable', attempts: 4 });
  });

  it('an unrecoverable error goes straight to the dead-letter queue after one attempt', async () => {
    embedder.fault = (texts) => (texts.some((x) => x.includes('POISON')) ? 'permanent' : undefined);
    const res = await postJson(t.url, '/v1/documents', { content: 'POISON pill document', namespace: 'rel-dlq' });
    const done = await waitForDocument(t.url, res.body.id, isSettled);
    expect(done).toMatchObject({ status: 'failed', attempts: 1 });
    expect(await attemptsOf(res.body.id)).toEqual([{ attempt: 1, outcome: 'failed', stage: 'embed', error_class: 'embedding_rejected' }]);
    const dlqJob = await dlq.getJob(`dead-${res.body.id}-v1`);
    expect(dlqJob?.data.errorClass).toBe('embedding_rejected');
    const filtered = (await (await fetch(`${t.url}/v1/dead-letters?errorClass=embedding_rejected&namespace=rel-dlq`)).json()) as DeadLetterList;
    expect(filtered.items.map((i) => i.id)).toEqual([res.body.id]);
  });

  it('retrying a dead letter re-queues it with fresh attempts and a new job id, and it reaches ready', async () => {
    let poisoned = true;
    embedder.fault = (texts) => (poisoned && texts.some((x) => x.includes('retry-me')) ? 'permanent' : undefined);
    const res = await postJson(t.url, '/v1/documents', { content: 'retry-me document', namespace: 'rel-retry' });
    await waitForDocument(t.url, res.body.id, (d) => d.status === 'failed');
    poisoned = false;
    const retry = await postJson(t.url, `/v1/dead-letters/${res.body.id}/retry`, {});
    expect(retry.status).toBe(202);
    expect(retry.body).toMatchObject({ id: res.body.id, status: 'queued', version: 2 });
    const done = await waitForDocument(t.url, res.body.id, isSettled);
    expect(done).toMatchObject({ status: 'ready', version: 2, attempts: 1, lastError: null });
    expect(await queue.getJob(`doc-${res.body.id}-v2`)).toBeDefined();
    expect(await dlq.getJob(`dead-${res.body.id}-v1`)).toBeUndefined();
    const list = (await (await fetch(`${t.url}/v1/dead-letters?namespace=rel-retry`)).json()) as DeadLetterList;
    expect(list.items).toHaveLength(0);
    expect((await postJson(t.url, `/v1/dead-letters/${res.body.id}/retry`, {})).status).toBe(404);
  });

  it('retries many dead letters by filter, and discards one while its document stays failed', async () => {
    embedder.fault = (texts) => (texts.some((x) => x.includes('bulk-poison')) ? 'permanent' : undefined);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await postJson(t.url, '/v1/documents', { content: `bulk-poison ${i}`, namespace: 'rel-bulk' })).body.id);
    for (const id of ids) await waitForDocument(t.url, id, (d) => d.status === 'failed');

    expect((await fetch(`${t.url}/v1/dead-letters/${ids[0]}`, { method: 'DELETE' })).status).toBe(204);
    expect(await waitForDocument(t.url, ids[0], () => true)).toMatchObject({ status: 'failed' });
    expect(await dlq.getJob(`dead-${ids[0]}-v1`)).toBeUndefined();

    embedder.fault = () => undefined;
    const res = await postJson(t.url, '/v1/dead-letters/retry', { namespace: 'rel-bulk', errorClass: 'embedding_rejected' });
    expect(res.status).toBe(202);
    expect(res.body.requeued).toBe(2);
    expect([...res.body.ids].sort()).toEqual([ids[1], ids[2]].sort());
    for (const id of ids.slice(1)) await waitForDocument(t.url, id, (d) => d.status === 'ready');
    expect(await waitForDocument(t.url, ids[0], () => true)).toMatchObject({ status: 'failed', version: 1 });
  });

  it('ten identical requests with one Idempotency-Key make one document and one job', async () => {
    const body = JSON.stringify({ content: 'idempotent content', namespace: 'rel-idem' });
    const key = `key-${Date.now()}`;
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        fetch(`${t.url}/v1/documents`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key }, body }).then(async (r) => ({
          status: r.status,
          body: (await r.json()) as { id: string; version: number },
        })),
      ),
    );
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect(answers.every((a) => a.status === 202 && a.body.version === 1)).toBe(true);
    const rows: Array<{ n: string }> = await db.query(`SELECT count(*) AS n FROM documents WHERE namespace = 'rel-idem'`);
    expect(Number(rows[0].n)).toBe(1);
    await waitForDocument(t.url, answers[0].body.id, (d) => d.status === 'ready');
    const attempts = await attemptsOf(answers[0].body.id);
    expect(attempts).toHaveLength(1);

    const reused = await fetch(`${t.url}/v1/documents`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify({ content: 'different content', namespace: 'rel-idem' }),
    });
    expect(reused.status).toBe(422);
  });

  it('ten concurrent POSTs of one externalId without a key still make one document', async () => {
    const body = { content: 'same external id', externalId: 'ext-concurrent', namespace: 'rel-ext' };
    const answers = await Promise.all(Array.from({ length: 10 }, () => postJson(t.url, '/v1/documents', body)));
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect(answers.every((a) => a.status === 202 || a.status === 200)).toBe(true);
    const rows: Array<{ n: string }> = await db.query(`SELECT count(*) AS n FROM documents WHERE namespace = 'rel-ext'`);
    expect(Number(rows[0].n)).toBe(1);
  });

  it('rejects NUL characters with a 400 instead of failing in the database', async () => {
    const res = await postJson(t.url, '/v1/documents', { content: 'bad \u0000 byte', namespace: 'rel' });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.message)).toContain('NUL');
  });

  it('a job run twice leaves exactly one set of chunks', async () => {
    const res = await postJson(t.url, '/v1/documents', { content: 'twice '.repeat(400), namespace: 'rel-twice', chunking: { size: 100, overlap: 10 } });
    const done = await waitForDocument(t.url, res.body.id, (d) => d.status === 'ready');
    // Redeliver the same version as if the first completion had been lost.
    await db.query(`UPDATE documents SET status = 'processing' WHERE id = $1`, [res.body.id]);
    await queue.add('ingest-document', { documentId: res.body.id, version: 1 }, { jobId: `redeliver-${res.body.id}` });
    await waitForDocument(t.url, res.body.id, (d) => d.status === 'ready' && d.attempts === 2);
    const rows: Array<{ n: string; distinct_idx: string }> = await db.query(
      `SELECT count(*) AS n, count(DISTINCT chunk_index) AS distinct_idx FROM chunks WHERE document_id = $1`,
      [res.body.id],
    );
    expect(Number(rows[0].n)).toBe(done.chunkCount);
    expect(Number(rows[0].distinct_idx)).toBe(done.chunkCount);
  });

  it('a job whose document is deleted while it runs ends without writing anything', async () => {
    embedder.delayMs = 800;
    const res = await postJson(t.url, '/v1/documents', { content: 'deleted mid-flight', namespace: 'rel-deleted' });
    await waitForDocument(t.url, res.body.id, (d) => d.status === 'processing');
    expect((await fetch(`${t.url}/v1/documents/${res.body.id}`, { method: 'DELETE' })).status).toBe(204);
    // The job in flight ends, and says it found its document gone.
    expect(await jobOutcome(queue, ingestJobId({ documentId: res.body.id, version: 1 }))).toEqual({ state: 'completed', returnvalue: 'stale' });
    const chunks: unknown[] = await db.query(`SELECT 1 FROM chunks WHERE document_id = $1`, [res.body.id]);
    expect(chunks).toHaveLength(0);
    expect((await fetch(`${t.url}/v1/documents/${res.body.id}`)).status).toBe(404);
    const job = await queue.getJob(`doc-${res.body.id}-v1`);
    expect(await job?.getState()).toBe('completed');
    expect(job?.returnvalue).toBe('stale');
  });
});
