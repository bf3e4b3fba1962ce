import { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import { getQueueToken } from '@nestjs/bullmq';
import { Queue, QueueEvents } from 'bullmq';
import { SPLITTER_VERSION } from '../src/ingest/chunking/text-splitter';
import { INGEST_QUEUE } from '../src/ingest/queue/ingest.jobs';
import { PipelineConfig, chunkingFor, sha256Hex } from '../src/documents/pipeline';
import { redisOptions } from '../src/common/redis-options';
import { TOPICS } from './support/corpus';
import { TestApp, postJson, startApp, waitForDocument } from './support/test-app';

describe('documents: ingest end to end (hash provider)', () => {
  let t: TestApp;
  let db: DataSource;
  let queue: Queue;

  beforeAll(async () => {
    t = await startApp();
    db = t.app.get<DataSource>(getDataSourceToken());
    queue = t.app.get<Queue>(getQueueToken(INGEST_QUEUE));
  });
  afterAll(async () => {
    await queue.obliterate({ force: true });
    await t.close();
  });

  it('accepts a document with 202, processes it to ready, and stores its chunks', async () => {
    const content = Array.from({ length: 40 }, (_, i) => `Paragraph ${i} talks about subject number ${i} in some detail.`).join('\n\n');
    const res = await postJson(t.url, '/v1/documents', { content, title: 'Forty paragraphs', metadata: { source: 'e2e' }, chunking: { size: 200, overlap: 20 } });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'queued', version: 1, statusUrl: `/v1/documents/${res.body.id}` });

    const done = await waitForDocument(t.url, res.body.id, (d) => d.status === 'ready');
    const rows: Array<{ n: string; dims: number; max_len: number; models: string }> = await db.query(
      `SELECT count(*) AS n, min(vector_dims(embedding)) AS dims, max(char_length(content)) AS max_len, string_agg(DISTINCT model, ',') AS models
         FROM chunks WHERE document_id = $1`,
      [res.body.id],
    );
    expect(Number(rows[0].n)).toBe(done.chunkCount);
    expect(done.chunkCount).toBeGreaterThan(5);
    expect(rows[0].dims).toBe(384);
    expect(rows[0].max_len).toBeLessThanOrEqual(200);
    expect(rows[0].models).toMatch(/^hash:/);
    expect(done).toMatchObject({ attempts: 1, lastError: null });
  });

  it('finds a document first when searching for one of its sentences', async () => {
    const ids: Record<string, string> = {};
    for (const [topic, content] of Object.entries(TOPICS)) {
      const res = await postJson(t.url, '/v1/documents', { content, title: topic, namespace: 'search-e2e' });
      ids[topic] = res.body.id;
    }
    for (const id of Object.values(ids)) await waitForDocument(t.url, id, (d) => d.status === 'ready');
    const res = await postJson(t.url, '/v1/search', {
      query: 'Its moons Io, Europa, Ganymede and Callisto were discovered by Galileo',
      namespace: 'search-e2e',
      topK: 3,
    });
    expect(res.status).toBe(200);
    expect(res.body.results[0]).toMatchObject({ documentId: ids.astronomy, chunkIndex: 0, title: 'astronomy' });
    expect(res.body.results[0].score).toBeGreaterThan(res.body.results[1].score);
    expect(res.body.results[0].content).toContain('Galileo');
  });

  it('returns 404 for an unknown or malformed id', async () => {
    expect((await fetch(`${t.url}/v1/documents/00000000-0000-4000-8000-000000000000`)).status).toBe(404);
    expect((await fetch(`${t.url}/v1/documents/not-a-uuid`)).status).toBe(404);
  });

  it('lists documents newest first, page by page with a cursor', async () => {
    const ns = `list-${Date.now()}`;
    const posted: string[] = [];
    for (let i = 0; i < 5; i++) {
      posted.push((await postJson(t.url, '/v1/documents', { content: `document ${i}`, namespace: ns })).body.id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const qs: string = `namespace=${ns}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await (await fetch(`${t.url}/v1/documents?${qs}`)).json()) as { items: Array<{ id: string }>; nextCursor: string | null };
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((d) => d.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...posted].reverse());
    const bad = await fetch(`${t.url}/v1/documents?cursor=garbage`);
    expect(bad.status).toBe(400);
  });

  it('a job for an old version does nothing once the document has been re-posted', async () => {
    const first = await postJson(t.url, '/v1/documents', { content: 'version one text about apples', externalId: 'ver-doc' });
    await waitForDocument(t.url, first.body.id, (d) => d.status === 'ready');
    const second = await postJson(t.url, '/v1/documents', { content: 'version two text about pears', externalId: 'ver-doc' });
    expect(second.status).toBe(202);
    expect(second.body).toMatchObject({ id: first.body.id, version: 2 });
    await waitForDocument(t.url, first.body.id, (d) => d.status === 'ready' && d.version === 2);

    // Replay the version-1 job, as a redelivery would.
    const events = new QueueEvents(INGEST_QUEUE, { connection: redisOptions(t.config.redis), prefix: t.config.queue.prefix });
    await events.waitUntilReady();
    const stale = await queue.add('ingest-document', { documentId: first.body.id, version: 1 }, { jobId: `replay-${Date.now()}` });
    const outcome = await stale.waitUntilFinished(events, 20000);
    await events.close();
    expect(outcome).toBe('stale');
    const after = await waitForDocument(t.url, first.body.id, () => true);
    expect(after).toMatchObject({ status: 'ready', version: 2 });
    const chunks: Array<{ content: string }> = await db.query(`SELECT content FROM chunks WHERE document_id = $1`, [first.body.id]);
    expect(chunks.map((c) => c.content)).toEqual(['version two text about pears']);
  });

  it('reposting identical content with the same externalId is deduplicated', async () => {
    const body = { content: 'the same words twice', externalId: 'dedupe-1', namespace: 'dedupe' };
    const first = await postJson(t.url, '/v1/documents', body);
    await waitForDocument(t.url, first.body.id, (d) => d.status === 'ready');
    const again = await postJson(t.url, '/v1/documents', body);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: first.body.id, version: 1, deduplicated: true });
  });

  it('reports the model stamped on the chunks, in the document and in the list', async () => {
    const ns = `model-${Date.now()}`;
    const res = await postJson(t.url, '/v1/documents', { content: 'a document about the model of its own vectors', namespace: ns });
    await waitForDocument(t.url, res.body.id, (d) => d.status === 'ready');
    const stamped: Array<{ model: string }> = await db.query(`SELECT DISTINCT model FROM chunks WHERE document_id = $1`, [res.body.id]);
    expect(stamped).toHaveLength(1);
    expect(stamped[0].model).toMatch(/^hash:/);
    const getModel = async (): Promise<unknown> => {
      const doc = (await (await fetch(`${t.url}/v1/documents/${res.body.id}`)).json()) as { model: unknown };
      return doc.model;
    };
    const listModel = async (): Promise<unknown> => {
      const page = (await (await fetch(`${t.url}/v1/documents?namespace=${ns}`)).json()) as { items: Array<{ model: unknown }> };
      return page.items[0].model;
    };
    expect(await getModel()).toBe(stamped[0].model);
    expect(await listModel()).toBe(stamped[0].model);

    // Whatever this process is configured with, the answer follows what the chunks say.
    await db.query(`UPDATE chunks SET model = 'hash:restamped-by-test' WHERE document_id = $1`, [res.body.id]);
    expect(await getModel()).toBe('hash:restamped-by-test');
    expect(await listModel()).toBe('hash:restamped-by-test');
  });

  it('deduplicates a document stored while the pipeline named the model, instead of processing it again', async () => {
    // A row as releases that put the API's configured model into the pipeline (and its hash) stored it.
    const content = 'stored by an older release';
    const model = 'local:all-MiniLM-L6-v2';
    const contextual = t.config.chunking.contextual;
    const pipeline: PipelineConfig = { ...chunkingFor(t.config.chunking), model, contextual, splitter: SPLITTER_VERSION };
    const { chunkSize, chunkOverlap } = pipeline;
    const legacyHash = sha256Hex(JSON.stringify([chunkSize, chunkOverlap, model, contextual, SPLITTER_VERSION])).slice(0, 16);
    const [{ id }]: Array<{ id: string }> = await db.query(
      `INSERT INTO documents (namespace, external_id, metadata, content_sha256, content_length, pipeline, pipeline_hash, status, chunk_count)
       VALUES ('legacy', 'legacy-1', '{}', $1, $2, $3, $4, 'ready', 0) RETURNING id`,
      [sha256Hex(content), content.length, pipeline, legacyHash],
    );
    await db.query(`INSERT INTO document_contents (document_id, version, content) VALUES ($1, 1, $2)`, [id, content]);
    const again = await postJson(t.url, '/v1/documents', { content, externalId: 'legacy-1', namespace: 'legacy' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id, version: 1, deduplicated: true });
  });

  it('reprocesses a document under a new version from its stored text', async () => {
    const res = await postJson(t.url, '/v1/documents', { content: 'text that is processed twice' });
    await waitForDocument(t.url, res.body.id, (d) => d.status === 'ready');
    const again = await postJson(t.url, `/v1/documents/${res.body.id}/reprocess`, {});
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ id: res.body.id, status: 'queued', version: 2 });
    // The worker loads the text by version: it finds it only if the text was moved to version 2 as well.
    const done = await waitForDocument(t.url, res.body.id, (d) => d.version === 2 && (d.status === 'ready' || d.status === 'failed'));
    expect(done).toMatchObject({ status: 'ready', attempts: 1, lastError: null, chunkCount: 1 });
  });

  it('deletes a document and its chunks', async () => {
    const res = await postJson(t.url, '/v1/documents', { content: 'short lived document' });
    await waitForDocument(t.url, res.body.id, (d) => d.status === 'ready');
    expect((await fetch(`${t.url}/v1/documents/${res.body.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(`${t.url}/v1/documents/${res.body.id}`)).status).toBe(404);
    const rows: unknown[] = await db.query(`SELECT 1 FROM chunks WHERE document_id = $1`, [res.body.id]);
    expect(rows).toHaveLength(0);
  });
});
