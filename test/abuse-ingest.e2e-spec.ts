import { getQueueToken } from '@nestjs/bullmq';
import { getDataSourceToken } from '@nestjs/typeorm';
import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { INGEST_QUEUE, ingestJobId } from '../src/ingest/queue/ingest.jobs';
import { WRITE_BATCH_ROWS } from '../src/vector-store/chunk.repository';
import { jobOutcome } from './support/job-outcome';
import { ScriptedEmbedder } from './support/scripted-embedder';
import { TestApp, isSettled, postJson, startApp, waitForDocument } from './support/test-app';

describe('what one document may cost', () => {
  const embedder = new ScriptedEmbedder();
  let t: TestApp;
  let db: DataSource;
  let queue: Queue;
  const ns = `abuse-ingest-${Date.now()}`;

  beforeAll(async () => {
    t = await startApp({ MAX_CHUNKS_PER_DOCUMENT: '2000', BODY_LIMIT_BYTES: String(4 * 1024 * 1024), CHUNK_UNIT: 'chars' }, { api: true, worker: true }, { embeddingProvider: embedder });
    db = t.app.get<DataSource>(getDataSourceToken());
    queue = t.app.get<Queue>(getQueueToken(INGEST_QUEUE));
  });
  afterAll(async () => {
    await queue.obliterate({ force: true });
    await t.close();
  });
  beforeEach(() => {
    embedder.delayMs = 0;
  });

  it('ingests a document under a one-megabyte heading with small chunk metadata and contexts', async () => {
    const heading = 'word '.repeat(200000);
    const res = await postJson(t.url, '/v1/documents', { content: `# ${heading}\n\n${'body text here. '.repeat(4000)}`, namespace: ns, title: 'Huge', chunking: { size: 4000, overlap: 0 } });
    expect(res.status).toBe(202);
    const done = await waitForDocument(t.url, res.body.id, isSettled, 150000);
    expect(done.status).toBe('ready');
    const rows: Array<{ meta: number; ctx: number; n: string }> = await db.query(
      `SELECT max(length(metadata::text)) AS meta, max(length(context)) AS ctx, count(*) AS n FROM chunks WHERE document_id = $1`,
      [res.body.id],
    );
    // More chunks than one write batch (WRITE_BATCH_ROWS): every batch landed.
    expect(done.chunkCount).toBeGreaterThan(WRITE_BATCH_ROWS);
    expect(Number(rows[0].n)).toBe(done.chunkCount);
    expect(Number(rows[0].meta)).toBeLessThan(200);
    expect(Number(rows[0].ctx)).toBeLessThanOrEqual(300);
  }, 180000);

  it('refuses a chunk step that would make one chunk per character, with 400', async () => {
    const res = await postJson(t.url, '/v1/documents', { content: 'x'.repeat(100000), namespace: ns, chunking: { size: 50, overlap: 49 } });
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('chunking.overlap (49) may be at most half of chunking.size (50)');
  });

  it('refuses a document that would make more chunks than MAX_CHUNKS_PER_DOCUMENT, with 400', async () => {
    const res = await postJson(t.url, '/v1/documents', { content: 'x'.repeat(300000), namespace: ns, chunking: { size: 100, overlap: 0 } });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/would make about 3000 chunks of 100; a document may make at most 2000/);
  });

  it('fails a token-sized document past the chunk cap at once as too_large, with a message a caller can act on', async () => {
    // Tokens are only known once split: the worker enforces the cap.
    const words = Array.from({ length: 20000 }, (_, i) => `w${i}`).join(' ');
    const r = await startApp({ MAX_CHUNKS_PER_DOCUMENT: '20', CHUNK_UNIT: 'tokens', EMBEDDING_PROVIDER: 'local' });
    try {
      const res = await postJson(r.url, '/v1/documents', { content: words, namespace: ns });
      expect(res.status).toBe(202);
      const done = await waitForDocument(r.url, res.body.id, isSettled, 60000);
      expect(done).toMatchObject({ status: 'failed', attempts: 1 });
      const doc = (await (await fetch(`${r.url}/v1/documents/${res.body.id}`)).json()) as { lastErrorClass: string; lastError: string };
      expect(doc.lastErrorClass).toBe('too_large');
      expect(doc.lastError).toMatch(/more than 20 chunks/);
    } finally {
      await r.close();
    }
  });

  it('ends the job of a document deleted while it runs quietly, as stale', async () => {
    embedder.delayMs = 1500;
    const res = await postJson(t.url, '/v1/documents', { content: 'deleted while embedding', namespace: ns });
    await waitForDocument(t.url, res.body.id, (d) => d.status === 'processing');
    expect((await fetch(`${t.url}/v1/documents/${res.body.id}`, { method: 'DELETE' })).status).toBe(204);
    const outcome = await jobOutcome(queue, ingestJobId({ documentId: res.body.id, version: 1 }));
    expect(outcome).toEqual({ state: 'completed', returnvalue: 'stale' });
  });
});
