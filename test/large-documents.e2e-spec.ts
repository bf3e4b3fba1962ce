import { getQueueToken } from '@nestjs/bullmq';
import { getDataSourceToken } from '@nestjs/typeorm';
import { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { PipelineConfig } from '../src/documents/pipeline';
import { draftChunks } from '../src/ingest/chunking/chunk-drafts';
import { INGEST_QUEUE } from '../src/ingest/queue/ingest.jobs';
import { Reconciler } from '../src/ingest/worker/reconciler.service';
import { chunkId } from '../src/vector-store/chunk-id';
import { ScriptedEmbedder } from './support/scripted-embedder';
import { openSse } from './support/sse-client';
import { TestApp, postJson, startApp, waitForDocument } from './support/test-app';

interface SlicedStatus {
  id: string;
  status: string;
  version: number;
  chunkCount: number | null;
  progress: { chunksEmbedded: number; chunksTotal: number } | null;
  lastErrorClass: string | null;
}

interface ChunkRow {
  id: string;
  chunk_index: number;
  content: string;
  content_sha256: string;
  context: string | null;
  metadata: Record<string, unknown>;
}

// Small chunks and slices, so a few kilobytes make a document of many slices.
const CHUNKING = { size: 200, overlap: 20 };
const SLICE_CHUNKS = 4;
const ENV = { RECONCILE_AGE_MS: '0', SLICE_THRESHOLD_CHARS: '3000', SLICE_CHUNKS: String(SLICE_CHUNKS), QUEUE_BACKOFF_MS: '50', QUEUE_BACKOFF_MAX_MS: '200', WORKER_CONCURRENCY: '2' };

/** A markdown document of `sections` headed sections, every sentence carrying `word` so each run's texts are new to the embedding cache. */
function largeText(word: string, sections = 12): string {
  const parts: string[] = [];
  for (let s = 0; s < sections; s++) {
    parts.push(`## Section ${s} ${word}\n`);
    for (let p = 0; p < 4; p++) parts.push(`Paragraph ${p} of section ${s} explains ${word} step ${s}.${p} with care and detail for the operators on duty.\n`);
  }
  return parts.join('\n');
}

describe('large documents: embedded in slices by every worker, published at once', () => {
  let api: TestApp;
  let second: TestApp;
  let db: DataSource;
  const first = new ScriptedEmbedder();
  const other = new ScriptedEmbedder();
  const ns = `large-${Date.now()}`;

  beforeAll(async () => {
    const env = { ...ENV, QUEUE_PREFIX: `test-${randomUUID().slice(0, 8)}` };
    api = await startApp(env, { api: true, worker: true }, { embeddingProvider: first });
    second = await startApp(env, { api: false, worker: true }, { embeddingProvider: other });
    db = api.app.get<DataSource>(getDataSourceToken());
  });
  afterEach(() => {
    for (const e of [first, other]) {
      e.delayMs = 0;
      e.fault = () => undefined;
    }
  });
  afterAll(async () => {
    await api.app.get<Queue>(getQueueToken(INGEST_QUEUE)).obliterate({ force: true });
    await second.close();
    await api.close();
  });

  async function post(content: string, externalId = randomUUID()): Promise<string> {
    const res = await postJson(api.url, '/v1/documents', { content, title: 'Large', namespace: ns, externalId, chunking: CHUNKING });
    expect(res.status).toBe(202);
    return res.body.id as string;
  }

  const status = async (id: string): Promise<SlicedStatus> => (await fetch(`${api.url}/v1/documents/${id}`)).json() as Promise<SlicedStatus>;
  const chunksOf = (id: string): Promise<ChunkRow[]> =>
    db.query(`SELECT id, chunk_index, content, content_sha256, context, metadata FROM chunks WHERE document_id = $1 ORDER BY chunk_index`, [id]);

  /** The chunks the single-job path makes of the same document. */
  async function expectedChunks(id: string, text: string): Promise<ChunkRow[]> {
    const [doc]: Array<{ title: string | null; metadata: Record<string, unknown>; pipeline: PipelineConfig }> = await db.query(
      `SELECT title, metadata, pipeline FROM documents WHERE id = $1`,
      [id],
    );
    return draftChunks(doc, text).map((d) => ({
      id: chunkId(id, d.index), chunk_index: d.index, content: d.content, content_sha256: d.contentSha256, context: d.context, metadata: d.metadata,
    }));
  }

  async function keywordHits(word: string): Promise<string[]> {
    const res = await postJson(api.url, '/v1/search', { query: word, namespace: ns, topK: 50, mode: 'keyword' });
    expect(res.status).toBe(200);
    return (res.body.results as Array<{ documentId: string }>).map((r) => r.documentId);
  }

  it('ends ready with exactly the chunks of the single-job path, each once, the slices shared by both workers, progress in the status', async () => {
    first.delayMs = other.delayMs = 40;
    const [callsBefore, otherBefore] = [first.calls, other.calls];
    const text = largeText('zephyrine');
    const stream = await openSse(`${api.url}/v1/events?namespace=${ns}`);
    const id = await post(text);
    const during = await waitForDocument(api.url, id, (d) => (d as unknown as SlicedStatus).progress !== null && (d as unknown as SlicedStatus).progress!.chunksEmbedded > 0);
    const progress = (during as unknown as SlicedStatus).progress!;
    expect(progress.chunksEmbedded).toBeLessThanOrEqual(progress.chunksTotal);
    const ready = (await waitForDocument(api.url, id, (d) => d.status === 'ready' || d.status === 'failed')) as unknown as SlicedStatus;
    expect(ready.status).toBe('ready');

    const expected = await expectedChunks(id, text);
    expect(expected.length).toBeGreaterThan(SLICE_CHUNKS * 3);
    expect(progress.chunksTotal).toBe(expected.length);
    expect(ready.chunkCount).toBe(expected.length);
    expect(ready.progress).toBeNull();
    expect(await chunksOf(id)).toEqual(expected);
    // Live streams saw the progress, slice by slice, to the whole document.
    await stream.waitFor((e) => e.data.includes(id) && e.data.includes('"ready"'));
    stream.close();
    const embedding = stream.events
      .filter((e) => e.data.startsWith('{'))
      .map((e) => JSON.parse(e.data) as { documentId?: string; stage?: string; chunksEmbedded?: number; chunksTotal?: number })
      .filter((e) => e.documentId === id && e.stage === 'embed');
    expect(embedding.every((e) => e.chunksTotal === expected.length)).toBe(true);
    expect(embedding.some((e) => e.chunksEmbedded! > 0 && e.chunksEmbedded! < expected.length)).toBe(true);
    expect(embedding.some((e) => e.chunksEmbedded === expected.length)).toBe(true);
    // Both processes embedded some of the slices.
    expect(first.calls).toBeGreaterThan(callsBefore);
    expect(other.calls).toBeGreaterThan(otherBefore);
    // Nothing is left staged once published.
    expect(await db.query(`SELECT 1 FROM staged_chunks WHERE document_id = $1 UNION ALL SELECT 1 FROM document_slice_runs WHERE document_id = $1`, [id])).toEqual([]);
  });

  it('shows search none of a new version until every slice is written, the previous version whole meanwhile', async () => {
    const externalId = randomUUID();
    const id = await post(largeText('quillonite'), externalId);
    await waitForDocument(api.url, id, (d) => d.status === 'ready');
    const before = (await chunksOf(id)).length;

    first.delayMs = other.delayMs = 150;
    expect((await post(largeText('marrowvale'), externalId)) === id).toBe(true);
    await waitForDocument(api.url, id, (d) => (d as unknown as SlicedStatus).progress !== null && (d as unknown as SlicedStatus).progress!.chunksEmbedded > 0);
    // Some slices are embedded: still none of the new text is searchable, all of the old one is.
    expect(await keywordHits('marrowvale')).toEqual([]);
    expect((await chunksOf(id)).filter((c) => c.content.includes('quillonite'))).toHaveLength(before);
    const ready = (await waitForDocument(api.url, id, (d) => d.status === 'ready' && d.version === 2)) as unknown as SlicedStatus;
    expect(await keywordHits('marrowvale')).toContain(id);
    expect(await keywordHits('quillonite')).toEqual([]);
    expect(await chunksOf(id)).toHaveLength(ready.chunkCount!);
  });

  it('retries a slice that failed once alone and ends ready', async () => {
    const text = largeText('brindlemoor');
    // The provider fails the first call holding section 5's heading, once.
    let failed = false;
    const fault = (texts: string[]): 'transient' | undefined => {
      if (failed || !texts.some((t) => t.includes('Section 5 brindlemoor'))) return undefined;
      failed = true;
      return 'transient';
    };
    first.fault = other.fault = fault;
    const textsBefore = first.texts + other.texts;
    const id = await post(text);
    const ready = (await waitForDocument(api.url, id, (d) => d.status === 'ready' || d.status === 'failed')) as unknown as SlicedStatus;
    expect(ready.status).toBe('ready');
    expect(failed).toBe(true);
    const expected = await expectedChunks(id, text);
    expect(await chunksOf(id)).toEqual(expected);
    // Every chunk was sent once, but those of the failed slice (a slice is one provider call here), sent twice.
    const sent = first.texts + other.texts - textsBefore;
    expect(sent).toBeGreaterThan(expected.length);
    expect(sent).toBeLessThanOrEqual(expected.length + SLICE_CHUNKS);
    const history: Array<{ outcome: string }> = await db.query(`SELECT outcome FROM document_attempts WHERE document_id = $1`, [id]);
    expect(history.map((h) => h.outcome)).toEqual(['ready']);
  });

  it('fails the document when a slice fails for good; a retry sends the provider only what was not embedded', async () => {
    const text = largeText('cobbleweft');
    let poisoned = true;
    first.fault = other.fault = (texts) => (poisoned && texts.some((t) => t.includes('Section 7 cobbleweft')) ? 'permanent' : undefined);
    const id = await post(text);
    const failed = (await waitForDocument(api.url, id, (d) => d.status === 'failed' || d.status === 'ready')) as unknown as SlicedStatus;
    expect(failed).toMatchObject({ status: 'failed', lastErrorClass: 'embedding_rejected' });
    expect(await chunksOf(id)).toEqual([]);

    poisoned = false;
    const textsBefore = first.texts + other.texts;
    const retried = await fetch(`${api.url}/v1/documents/${id}/reprocess`, { method: 'POST' });
    expect(retried.status).toBeLessThan(300);
    const ready = (await waitForDocument(api.url, id, (d) => d.status === 'ready' || d.status === 'failed')) as unknown as SlicedStatus;
    expect(ready.status).toBe('ready');
    expect(await chunksOf(id)).toEqual(await expectedChunks(id, text));
    // The slices embedded before come from the embedding cache: far fewer texts than the whole document went to the provider again.
    expect(first.texts + other.texts - textsBefore).toBeLessThan(ready.chunkCount!);
  });

  it('deleting a document while its slices run leaves nothing behind', async () => {
    first.delayMs = other.delayMs = 150;
    const id = await post(largeText('grubbleton'));
    await waitForDocument(api.url, id, (d) => (d as unknown as SlicedStatus).progress !== null);
    expect((await fetch(`${api.url}/v1/documents/${id}`, { method: 'DELETE' })).status).toBeLessThan(300);
    first.delayMs = other.delayMs = 0;
    // Let the slice and publish jobs still queued run against the deleted document.
    const queue = api.app.get<Queue>(getQueueToken(INGEST_QUEUE));
    const deadline = Date.now() + 20000;
    while (Date.now() < deadline && (await queue.getJobCounts('waiting', 'active', 'delayed', 'waiting-children')).active > 0) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 500));
    expect(await db.query(`SELECT 1 FROM chunks WHERE document_id = $1 UNION ALL SELECT 1 FROM staged_chunks WHERE document_id = $1`, [id])).toEqual([]);
    expect(await keywordHits('grubbleton')).toEqual([]);
  });

  it('re-creates a flow Redis lost, for the slices not yet embedded, and ends ready with the right chunks', async () => {
    first.delayMs = other.delayMs = 200;
    const text = largeText('plumbridge');
    const id = await post(text);
    const during = (await waitForDocument(api.url, id, (d) => ((d as unknown as SlicedStatus).progress?.chunksEmbedded ?? 0) > 0)) as unknown as SlicedStatus;
    // Redis loses every job of the queue: the flow, its finished and its pending slices.
    await api.app.get<Queue>(getQueueToken(INGEST_QUEUE)).obliterate({ force: true });
    first.delayMs = other.delayMs = 0;
    await api.app.get(Reconciler).reconcile();
    const ready = (await waitForDocument(api.url, id, (d) => d.status === 'ready' || d.status === 'failed')) as unknown as SlicedStatus;
    expect(ready.status).toBe('ready');
    expect(await chunksOf(id)).toEqual(await expectedChunks(id, text));
    // The new flow (run 2) held only the slices not embedded before the loss.
    const queue = api.app.get<Queue>(getQueueToken(INGEST_QUEUE));
    const slices = (await queue.getJobs(['completed'])).filter((j) => j?.name === 'embed-slice' && j.data.documentId === id);
    expect(slices.map((j) => j.data.run as number).every((run) => run === 2)).toBe(true);
    expect(slices.length).toBeGreaterThan(0);
    expect(slices.length).toBeLessThanOrEqual(Math.ceil((ready.chunkCount! - during.progress!.chunksEmbedded) / SLICE_CHUNKS));
  });

  it('keeps a document under SLICE_THRESHOLD_CHARS on the single-job path', async () => {
    const text = largeText('lindenquay', 4);
    expect(text.length).toBeLessThan(Number(ENV.SLICE_THRESHOLD_CHARS));
    const id = await post(text);
    const ready = (await waitForDocument(api.url, id, (d) => d.status === 'ready' || d.status === 'failed')) as unknown as SlicedStatus;
    expect(ready.status).toBe('ready');
    expect(await chunksOf(id)).toEqual(await expectedChunks(id, text));
    const queue = api.app.get<Queue>(getQueueToken(INGEST_QUEUE));
    const jobs = (await queue.getJobs(['completed'])).filter((j) => j?.data.documentId === id);
    expect(jobs.map((j) => j.name)).toEqual(['ingest-document']);
  });
});
