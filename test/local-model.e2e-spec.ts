import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { MINILM_TOKENIZER, loadTokenizer } from '../src/embedding/tokenizer';
import { textToEmbed } from '../src/ingest/chunking/chunk-context';
import { TOPICS } from './support/corpus';
import { TestApp, postJson, startApp, waitForDocument } from './support/test-app';

// The default, offline model end to end: real all-MiniLM-L6-v2 vectors through the service.
describe('local model (all-MiniLM-L6-v2) through the service', () => {
  let t: TestApp;
  const ns = `local-${Date.now()}`;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    t = await startApp({ EMBEDDING_PROVIDER: 'local' });
    for (const [topic, content] of Object.entries(TOPICS)) {
      ids[topic] = (await postJson(t.url, '/v1/documents', { content, namespace: ns })).body.id;
    }
    for (const id of Object.values(ids)) await waitForDocument(t.url, id, (d) => d.status === 'ready', 60000);
  });
  afterAll(() => t.close());

  it.each([
    ['which planet has a storm bigger than our world?', 'astronomy'],
    ['how do I keep my bike drivetrain from wearing out', 'cycling'],
    ['making a creamy Italian rice dish', 'cooking'],
    ['why is my query slow without the right lookup structure', 'databases'],
  ])('a query in other words (%s) finds the %s document first', async (query, topic) => {
    const res = await postJson(t.url, '/v1/search', { query, namespace: ns, topK: 3, mode: 'vector' });
    expect(res.status).toBe(200);
    expect(res.body.results[0].documentId).toBe(ids[topic]);
  });

  it("sizes chunks in the model's tokens, so no chunk is cut off at its 256-token window", async () => {
    const content = Object.entries(TOPICS)
      .map(([topic, text]) => `## ${topic}\n\n${Array.from({ length: 6 }, () => text).join('\n\n')}`)
      .join('\n\n');
    const posted = await postJson(t.url, '/v1/documents', { content, title: 'Five topics', namespace: ns });
    const done = await waitForDocument(t.url, posted.body.id, (d) => d.status === 'ready', 60000);
    const view = (await (await fetch(`${t.url}/v1/documents/${done.id}`)).json()) as { chunking: unknown };
    expect(view.chunking).toEqual({ size: 200, overlap: 30, unit: 'tokens', tokenizer: MINILM_TOKENIZER.id });
    const db = t.app.get<DataSource>(getDataSourceToken());
    const rows: Array<{ content: string; context: string | null }> = await db.query('SELECT content, context FROM chunks WHERE document_id = $1', [done.id]);
    expect(rows.length).toBe(done.chunkCount);
    const minilm = loadTokenizer(MINILM_TOKENIZER.id);
    for (const r of rows) {
      expect(minilm.count(r.content)).toBeLessThanOrEqual(200);
      expect(minilm.count(textToEmbed(r.context, r.content)) + 2).toBeLessThanOrEqual(256);
    }
    // The model reports no usage: its own tokenizer counts what it read (each distinct text once).
    const embedded = new Set(rows.map((r) => textToEmbed(r.context, r.content)));
    const cost = ((await (await fetch(`${t.url}/v1/documents/${done.id}`)).json()) as { embedding: { tokens: number; tokensEstimated: boolean } })
      .embedding;
    expect(cost.tokensEstimated).toBe(false);
    expect(cost.tokens).toBe([...embedded].reduce((n, x) => n + Math.min(minilm.count(x), MINILM_TOKENIZER.maxTokens), 0));
  });
});
