import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource, QueryRunner } from 'typeorm';
import { TestApp, isSettled, postJson, startApp, waitForDocument } from './support/test-app';

// The advisory lock every search holds shared (GenerationLock's HOLD_LOCK); taken
// exclusively here, it makes any search wait as long as the test wants.
const HOLD_LOCK = 7_350_517_003;

describe('what one search may cost', () => {
  let t: TestApp;
  let db: DataSource;
  const ns = `abuse-search-${Date.now()}`;

  beforeAll(async () => {
    t = await startApp({
      SEARCH_STATEMENT_TIMEOUT_MS: '1000',
      SEARCH_MAX_CONCURRENCY: '2',
      SEARCH_QUEUE_TIMEOUT_MS: '200',
      SEARCH_MAX_RESPONSE_CHARS: '10000',
      PG_POOL_SIZE: '6',
      CHUNK_UNIT: 'chars',
    });
    db = t.app.get<DataSource>(getDataSourceToken());
  });
  afterAll(() => t.close());

  async function blockSearches(): Promise<QueryRunner> {
    const runner = db.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    await runner.query('SELECT pg_advisory_xact_lock($1)', [HOLD_LOCK]);
    return runner;
  }
  async function unblock(runner: QueryRunner): Promise<void> {
    await runner.rollbackTransaction();
    await runner.release();
  }

  it('refuses a filter of more than 100 value combinations with 400, at once', async () => {
    const values = (n: number) => Array.from({ length: n }, (_, i) => `v${i}`);
    const started = Date.now();
    const res = await postJson(t.url, '/v1/search', { query: 'x', namespace: ns, filter: { a: { $in: values(100) }, b: { $in: values(100) }, c: { $in: values(100) } } });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/more than 100 combinations/);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('refuses a query longer than 2000 characters with 400', async () => {
    const res = await postJson(t.url, '/v1/search', { query: 'word '.repeat(401), namespace: ns });
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('query must be at most 2000 characters');
  });

  it('answers a search past SEARCH_STATEMENT_TIMEOUT_MS with 503 and Retry-After', async () => {
    const runner = await blockSearches();
    try {
      const started = Date.now();
      const res = await fetch(`${t.url}/v1/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: 'x', namespace: ns, mode: 'keyword' }) });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await unblock(runner);
    }
  });

  it('keeps the pool for other routes while searches pile up: the extra ones get 503 quickly', async () => {
    const runner = await blockSearches();
    try {
      const search = () => fetch(`${t.url}/v1/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: 'x', namespace: ns, mode: 'keyword' }) });
      const searches = Array.from({ length: 10 }, search);
      // While two searches hold connections and eight wait for a turn, documents and readiness still answer.
      await new Promise((r) => setTimeout(r, 100));
      expect((await fetch(`${t.url}/v1/documents?namespace=${ns}`)).status).toBe(200);
      expect((await fetch(`${t.url}/health/ready`)).status).toBe(200);
      const statuses = await Promise.all(searches.map(async (p) => (await p).status));
      expect(statuses).toEqual(Array(10).fill(503));
    } finally {
      await unblock(runner);
    }
    // Once unblocked, searches answer again.
    expect((await postJson(t.url, '/v1/search', { query: 'x', namespace: ns, mode: 'keyword' })).status).toBe(200);
  });

  it('keeps an answer within SEARCH_MAX_RESPONSE_CHARS whatever topK asks', async () => {
    const paragraph = (w: string) => `${w} `.repeat(1000);
    const res = await postJson(t.url, '/v1/documents', { content: ['alpha', 'beta', 'gamma', 'delta'].map((w) => `${paragraph(w)}shared`).join('\n\n'), namespace: ns, chunking: { size: 6000, overlap: 0 } });
    expect(res.status).toBe(202);
    const done = await waitForDocument(t.url, res.body.id, isSettled);
    expect(done.status).toBe('ready');
    expect(done.chunkCount).toBeGreaterThanOrEqual(4);
    const found = await postJson(t.url, '/v1/search', { query: 'shared', namespace: ns, topK: 100, mode: 'keyword' });
    expect(found.status).toBe(200);
    expect(found.body.results.length).toBeGreaterThan(0);
    expect(found.body.results.length).toBeLessThan(done.chunkCount as number);
    expect(JSON.stringify(found.body).length).toBeLessThan(15000);
  });
});
