import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { joinBlocks, markdownDocument } from '../bench/support/markdown-document';
import { chunkContext, headingPathAt, markdownHeadings, textToEmbed } from '../src/ingest/chunking/chunk-context';
import { splitText } from '../src/ingest/chunking/text-splitter';
import { INGEST_QUEUE, ingestJobId } from '../src/ingest/queue/ingest.jobs';
import { ScriptedEmbedder } from './support/scripted-embedder';
import { DocumentStatusBody, postJson, startApp, TestApp, waitForDocument } from './support/test-app';

interface StatusWithEmbedding extends DocumentStatusBody {
  embedding: { embeddedTexts: number; cachedTexts: number; characters: number; charactersTotal: number };
}

/** The distinct texts the worker embeds for a document (contextual chunks, default size). */
function embeddedTexts(title: string, text: string): Set<string> {
  const headings = markdownHeadings(text);
  return new Set(
    splitText(text, { size: 1000, overlap: 150 }).map((c) => textToEmbed(chunkContext(title, headingPathAt(headings, c.start)), c.content)),
  );
}

describe('re-embedding only what changed', () => {
  const embedder = new ScriptedEmbedder();
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp({ CHUNK_SIZE: '1000', CHUNK_OVERLAP: '150', CONTEXTUAL_CHUNKS: 'true', EMBEDDING_CACHE: 'true' }, { api: true, worker: true }, { embeddingProvider: embedder });
  });
  afterAll(async () => {
    await t.close();
  });

  it('a one-paragraph edit embeds only the changed chunks; an unchanged re-post embeds nothing', async () => {
    // A title unique to the run, so no other test's cached vectors can answer for these texts.
    const title = `Re-embedding handbook ${randomUUID()}`;
    const blocks = markdownDocument(21, 30_000);
    const original = joinBlocks(blocks);
    const externalId = `reembed-${randomUUID()}`;
    const post = (content: string) => postJson(t.url, '/v1/documents', { content, title, externalId, namespace: 'reembed' });
    const status = async (id: string): Promise<StatusWithEmbedding> =>
      (await (await fetch(`${t.url}/v1/documents/${id}`)).json()) as StatusWithEmbedding;

    const first = await post(original);
    expect(first.status).toBe(202);
    const v1 = await waitForDocument(t.url, first.body.id, (d) => d.status === 'ready' && d.version === 1);
    expect(v1.chunkCount).toBeGreaterThanOrEqual(30);
    expect(embedder.texts).toBe(embeddedTexts(title, original).size);

    // Edit one paragraph in the middle of the document.
    const middle = blocks.map((b, i) => (b.kind === 'paragraph' ? i : -1)).filter((i) => i >= 0)[20];
    const editedBlocks = blocks.map((b, i) => (i === middle ? { ...b, text: b.text.replace(/ (\w+) (\w+) (\w+)/, ' edited words here') } : b));
    const edited = joinBlocks(editedBlocks);
    expect(edited).not.toBe(original);
    const before = embeddedTexts(title, original);
    const expected = [...embeddedTexts(title, edited)].filter((x) => !before.has(x)).length;
    expect(expected).toBeGreaterThan(0);
    expect(expected).toBeLessThanOrEqual(3);

    const calls = embedder.calls;
    const texts = embedder.texts;
    const second = await post(edited);
    expect(second.status).toBe(202);
    expect(second.body.id).toBe(first.body.id);
    const v2 = await waitForDocument(t.url, first.body.id, (d) => d.status === 'ready' && d.version === 2);
    expect(embedder.texts - texts).toBe(expected);
    expect(embedder.calls - calls).toBe(1);
    const body = await status(first.body.id);
    expect(body.embedding.embeddedTexts).toBe(expected);
    // Cost where no tokenizer is known: the characters sent, for this version and in all.
    const changed = [...embeddedTexts(title, edited)].filter((x) => !before.has(x));
    expect(body.embedding.characters).toBe(changed.reduce((n, x) => n + x.length, 0));
    expect(body.embedding.charactersTotal).toBe([...before].reduce((n, x) => n + x.length, 0) + body.embedding.characters);
    expect(body.embedding.cachedTexts).toBe(embeddedTexts(title, edited).size - expected);
    expect(body.embedding.cachedTexts).toBeGreaterThanOrEqual(v2.chunkCount! - 3);

    // The same content again: deduplicated, nothing queued, the provider not called.
    const third = await post(edited);
    expect(third.status).toBe(200);
    expect(third.body).toMatchObject({ id: first.body.id, version: 2, deduplicated: true });
    // The queue holds no work at all, only the two versions' jobs, finished: nothing can call the provider later.
    const queue = t.app.get<Queue>(getQueueToken(INGEST_QUEUE));
    const pending = await queue.getJobCounts('waiting', 'paused', 'active', 'delayed', 'prioritized', 'waiting-children');
    expect(pending).toEqual({ waiting: 0, paused: 0, active: 0, delayed: 0, prioritized: 0, 'waiting-children': 0 });
    const jobs = await queue.getJobs(['completed', 'failed']);
    expect(jobs.map((j) => j.id).sort()).toEqual([1, 2].map((version) => ingestJobId({ documentId: first.body.id, version })).sort());
    expect(embedder.calls - calls).toBe(1);
    expect((await status(first.body.id)).version).toBe(2);
  });
});
