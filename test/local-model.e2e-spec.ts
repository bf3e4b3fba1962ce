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
});
