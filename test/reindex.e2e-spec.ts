import { Client } from 'pg';
import { loadConfig } from '../src/config/app-config';
import { createDataSource } from '../src/database/data-source';
import { textToEmbed } from '../src/ingest/chunking/chunk-context';
import { FakeOpenAiServer } from './support/fake-openai.server';
import { TOPICS } from './support/corpus';
import { ownDatabase } from './support/own-database';
import { TestApp, postJson, startApp, waitForDocument } from './support/test-app';

/** A database of its own: a re-embed covers every document, so it must not see the other suites'. */
const database = ownDatabase('ingest_test_reindex');
const DATABASE_URL = database.url;

const NS = 'reindex';
const QUERY = 'how do I keep the bicycle chain from wearing out';

interface SearchHit {
  chunkId: string;
  documentId: string;
  content: string;
  context: string | null;
  score: number;
}

interface ReindexBody {
  active: { generation: number; model: string; dimension: number };
  reindex: {
    generation: number;
    state: 'running' | 'complete' | 'cancelled';
    model: string;
    dimension: number;
    previousGeneration: number | null;
    documents: { total: number; done: number; failed: number } | null;
  } | null;
}

async function freshDatabase(): Promise<void> {
  await database.fresh();
  const ds = createDataSource(loadConfig({ ...process.env, DATABASE_URL }));
  await ds.initialize();
  try {
    await ds.runMigrations({ transaction: 'each' });
  } finally {
    await ds.destroy();
  }
}

async function query<T>(sql: string): Promise<T[]> {
  const c = new Client({ connectionString: DATABASE_URL });
  await c.connect();
  try {
    return (await c.query(sql)).rows as T[];
  } finally {
    await c.end();
  }
}

const cosine = (a: number[], b: number[]): number => {
  let dot = 0;
  let na = 0;
  let nb = 0;
  a.forEach((x, i) => {
    dot += x * b[i];
    na += x * x;
    nb += b[i] * b[i];
  });
  return dot / Math.sqrt(na * nb);
};

describe('re-embed into a new generation (model change) while search keeps answering', () => {
  const fake = new FakeOpenAiServer(256);
  const env = {
    DATABASE_URL,
    ALLOW_MODEL_MISMATCH: 'false',
    REINDEX_INTERVAL_MS: '100',
    REINDEX_CONCURRENCY: '1',
  };
  const hosted = () => ({
    ...env,
    EMBEDDING_PROVIDER: 'openai',
    EMBEDDING_MODEL: 'fake-embed',
    EMBEDDING_DIMENSION: '256',
    OPENAI_BASE_URL: fake.url,
    OPENAI_API_KEY: 'test-key',
  });
  let t: TestApp | undefined;
  const ids: string[] = [];

  const search = async (mode = 'vector'): Promise<{ status: number; results: SearchHit[] }> => {
    const res = await postJson(t!.url, '/v1/search', { query: QUERY, namespace: NS, topK: 5, mode });
    return { status: res.status, results: res.body?.results ?? [] };
  };
  const reindexStatus = async (): Promise<ReindexBody> => (await (await fetch(`${t!.url}/v1/reindex`)).json()) as ReindexBody;

  beforeAll(async () => {
    await freshDatabase();
    await fake.start();
    t = await startApp(env);
    // Twenty-five documents: five topics, five variants each.
    for (let i = 0; i < 25; i++) {
      const [topic, text] = Object.entries(TOPICS)[i % 5];
      const res = await postJson(t.url, '/v1/documents', { content: `${text} Variant ${i}.`, title: `${topic} ${i}`, namespace: NS });
      expect(res.status).toBe(202);
      ids.push(res.body.id);
    }
    for (const id of ids) await waitForDocument(t.url, id, (d) => d.status === 'ready');
  }, 60000);

  afterAll(async () => {
    await t?.close();
    await fake.stop();
  });

  it('records the first model as the active generation', async () => {
    const body = await reindexStatus();
    expect(body.active).toMatchObject({ generation: 1, model: 'hash:fnv1a-uni-bigram-384', dimension: 384 });
    expect(body.reindex).toBeNull();
  });

  it('answers every search from the old model until the switch, then from the new one', async () => {
    const tokensOf = async (id: string): Promise<number> =>
      ((await (await fetch(`${t!.url}/v1/documents/${id}`)).json()) as { embedding: { tokensTotal: number } }).embedding.tokensTotal;
    const tokensBefore = await tokensOf(ids[0]);
    const indexesOf = (table: string) =>
      query<{ name: string; valid: boolean }>(
        `SELECT c.relname AS name, i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
          WHERE i.indrelid = to_regclass('${table}') ORDER BY 1`,
      );
    const indexesBefore = await indexesOf('chunks');
    expect(indexesBefore.map((i) => i.name)).toContain('chunks_embedding_hnsw_idx');
    const before = await search();
    expect(before.status).toBe(200);
    expect(before.results.length).toBe(5);
    await t!.close();

    // The new model answers slowly, so the re-embed takes long enough to search through it.
    fake.plan = () => ({ kind: 'ok', delayMs: 150 });
    t = await startApp(hosted());
    const started = await postJson(t.url, '/v1/reindex', {});
    expect(started.status).toBe(202);
    expect(started.body.active).toMatchObject({ generation: 1, model: 'hash:fnv1a-uni-bigram-384' });
    expect(started.body.reindex).toMatchObject({ generation: 2, state: 'running', model: 'openai:fake-embed', dimension: 256, previousGeneration: 1 });
    expect(started.body.reindex.documents.total).toBe(25);

    let added: string | undefined;
    let searchesWhileRunning = 0;
    const phases = new Set<string>();
    let lastDone = 0;
    const deadline = Date.now() + 90000;
    for (;;) {
      const s1 = await reindexStatus();
      const res = await search();
      const s2 = await reindexStatus();
      expect(res.status).toBe(200);
      expect(res.results.length).toBe(5);
      if (s2.reindex!.state === 'complete') break;
      expect(s2.reindex!.state).toBe('running');
      if (s1.reindex!.state === 'running') {
        // Still the old generation: the very same results as before the re-embed began.
        expect(res.results.map((r) => [r.chunkId, r.score.toFixed(6)])).toEqual(before.results.map((r) => [r.chunkId, r.score.toFixed(6)]));
        searchesWhileRunning++;
      }
      const progress = s2.reindex!.documents!;
      phases.add((s2.reindex as unknown as { phase: string }).phase);
      expect(progress.done).toBeGreaterThanOrEqual(lastDone);
      expect(progress.done).toBeLessThanOrEqual(progress.total);
      lastDone = progress.done;
      if (!added && progress.done > 0) {
        // A document that arrives during the re-embed is searchable at once and ends up in the new generation.
        const res2 = await postJson(t.url, '/v1/documents', { content: 'A sourdough starter needs flour and water every day.', namespace: NS });
        expect(res2.status).toBe(202);
        added = res2.body.id as string;
        await waitForDocument(t.url, added, (d) => d.status === 'ready');
        const found = await postJson(t.url, '/v1/search', { query: 'sourdough starter', namespace: NS, topK: 1, mode: 'vector' });
        expect(found.body.results[0].documentId).toBe(added);
      }
      if (Date.now() > deadline) throw new Error(`re-embed did not finish: ${JSON.stringify(s2)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(searchesWhileRunning).toBeGreaterThan(3);
    expect(phases).toContain('copying');
    expect(added).toBeDefined();

    // What re-embedding cost is on each document's bill.
    expect(await tokensOf(ids[0])).toBeGreaterThan(tokensBefore);
    const done = await reindexStatus();
    expect(done.active).toMatchObject({ generation: 2, model: 'openai:fake-embed', dimension: 256 });
    expect(done.reindex).toMatchObject({ generation: 2, state: 'complete', documents: null });

    // The old vectors are gone; every chunk of every document is the new model's, 256-dimensional.
    expect(await query(`SELECT to_regclass('chunks_next') AS t`)).toEqual([{ t: null }]);
    // The same indexes under the same names (the HNSW graph built over the loaded rows), all valid.
    expect(await indexesOf('chunks')).toEqual(indexesBefore);
    expect(await query(`SELECT atttypmod AS dim FROM pg_attribute WHERE attrelid = 'chunks'::regclass AND attname = 'embedding'`)).toEqual([{ dim: 256 }]);
    expect(await query(`SELECT DISTINCT model FROM chunks`)).toEqual([{ model: 'openai:fake-embed' }]);
    const [counts] = await query<{ chunks: string; expected: string }>(
      `SELECT (SELECT count(*) FROM chunks) AS chunks, (SELECT sum(chunk_count) FROM documents WHERE status = 'ready') AS expected`,
    );
    expect(Number(counts.chunks)).toBe(Number(counts.expected));
    expect(await query(`SELECT count(DISTINCT document_id)::int AS n FROM chunks`)).toEqual([{ n: 26 }]);

    // Searches now embed the query with the new model, and score with its vectors.
    const sent = fake.requests.length;
    const after = await search();
    expect(after.status).toBe(200);
    expect(fake.requests.slice(sent).some((r) => r.inputs.includes(QUERY))).toBe(true);
    const q = await fake.vectorOf(QUERY);
    for (const hit of after.results) {
      expect(hit.score).toBeCloseTo(cosine(q, await fake.vectorOf(textToEmbed(hit.context, hit.content))), 5);
    }
    const found = await postJson(t.url, '/v1/search', { query: 'sourdough starter', namespace: NS, topK: 1, mode: 'vector' });
    expect(found.body.results[0].documentId).toBe(added);
  }, 120000);

  it('never undoes a model change on its own: a process still configured with the old model serves the new one', async () => {
    await t!.close();
    t = await startApp(env, { api: true, worker: false });
    const body = await reindexStatus();
    expect(body.active).toMatchObject({ generation: 2, model: 'openai:fake-embed' });
    expect(body.reindex).toMatchObject({ generation: 2, state: 'complete' });
    // Its queries are embedded with the active model, rebuilt from the stored settings.
    const sent = fake.requests.length;
    expect((await search()).results.length).toBe(5);
    expect(fake.requests.slice(sent).some((r) => r.inputs.includes(QUERY))).toBe(true);
  });

  it('cancels a re-embed without touching search', async () => {
    // API only, configured with the model generation 2 replaced: going back takes an explicit POST.
    const started = await postJson(t!.url, '/v1/reindex', {});
    expect(started.status).toBe(202);
    expect(started.body.reindex).toMatchObject({ generation: 3, state: 'running', model: 'hash:fnv1a-uni-bigram-384', previousGeneration: 2 });
    const again = await postJson(t!.url, '/v1/reindex', {});
    expect(again.body.reindex.generation).toBe(3);

    const res = await fetch(`${t!.url}/v1/reindex`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as ReindexBody;
    expect(body.reindex).toMatchObject({ generation: 3, state: 'cancelled' });
    expect(body.active.generation).toBe(2);
    expect(await query(`SELECT to_regclass('chunks_next') AS t`)).toEqual([{ t: null }]);
    expect((await search()).results.length).toBe(5);
    expect((await fetch(`${t!.url}/v1/reindex`, { method: 'DELETE' })).status).toBe(404);

    // The cancel sticks: another process configured like this one does not start it again.
    const other = await startApp(env, { api: true, worker: false });
    try {
      const status = (await (await fetch(`${other.url}/v1/reindex`)).json()) as ReindexBody;
      expect(status.reindex).toMatchObject({ generation: 3, state: 'cancelled' });
      expect(status.active.generation).toBe(2);
    } finally {
      await other.close();
    }
  });

  it('holds the switch while a document fails for good, and finishes once it is retried', async () => {
    await t!.close();
    const failing = 'A sourdough starter';
    fake.plan = (_n, req) => (req.inputs.some((x) => x.includes(failing)) ? { kind: 'status', status: 400, message: 'input rejected' } : { kind: 'ok' });
    t = await startApp({ ...hosted(), EMBEDDING_MODEL: 'fake-embed-2' });
    const deadline = Date.now() + 60000;
    let body = await reindexStatus();
    while (!(body.reindex!.documents && body.reindex!.documents.done + body.reindex!.documents.failed === body.reindex!.documents.total)) {
      if (Date.now() > deadline) throw new Error(`re-embed did not settle: ${JSON.stringify(body)}`);
      await new Promise((r) => setTimeout(r, 100));
      body = await reindexStatus();
    }
    expect(body.reindex).toMatchObject({ generation: 4, state: 'running', model: 'openai:fake-embed-2', documents: { total: 26, done: 25, failed: 1 } });
    expect((body.reindex as unknown as { documents: { errors: Array<{ error: string }> } }).documents.errors[0].error).toMatch(/embedding_rejected: .*400/);
    // Several coordinator passes later it still waits, and search still answers from generation 2.
    await new Promise((r) => setTimeout(r, 1000));
    expect((await reindexStatus()).active.generation).toBe(2);
    expect((await search()).results.length).toBe(5);

    fake.plan = () => ({ kind: 'ok' });
    const retried = await postJson(t!.url, '/v1/reindex', {});
    expect(retried.status).toBe(202);
    expect(retried.body.reindex).toMatchObject({ generation: 4, documents: { failed: 0 } });
    while ((body = await reindexStatus()).reindex!.state !== 'complete') {
      if (Date.now() > deadline) throw new Error(`re-embed did not finish after the retry: ${JSON.stringify(body)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(body.active).toMatchObject({ generation: 4, model: 'openai:fake-embed-2' });
    expect(await query(`SELECT count(DISTINCT document_id)::int AS n FROM chunks`)).toEqual([{ n: 26 }]);
  }, 90000);

  it('keeps the chunks of documents that are being processed again, or failed after an update, across the switch', async () => {
    await t!.close();
    fake.plan = () => ({ kind: 'ok' });
    // Two documents whose new version is not ready: one waiting for a worker, one failed for good.
    const [waiting, failed] = [ids[1], ids[2]];
    const before = await query<{ document_id: string; n: number }>(
      `SELECT document_id, count(*)::int AS n FROM chunks WHERE document_id IN ('${waiting}', '${failed}') GROUP BY 1 ORDER BY 1`,
    );
    expect(before).toHaveLength(2);
    await query(`UPDATE documents SET version = version + 1, status = 'queued' WHERE id = '${waiting}'`);
    await query(`UPDATE documents SET version = version + 1, status = 'failed', last_error = 'rejected' WHERE id = '${failed}'`);

    t = await startApp({ ...hosted(), EMBEDDING_MODEL: 'fake-embed-3' });
    const deadline = Date.now() + 60000;
    let body = await reindexStatus();
    expect(body.reindex).toMatchObject({ state: 'running', model: 'openai:fake-embed-3' });
    while ((body = await reindexStatus()).reindex!.state !== 'complete') {
      if (Date.now() > deadline) throw new Error(`re-embed did not finish: ${JSON.stringify(body)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(body.active.model).toBe('openai:fake-embed-3');
    const after = await query<{ document_id: string; n: number; model: string }>(
      `SELECT document_id, count(*)::int AS n, min(model) AS model FROM chunks
        WHERE document_id IN ('${waiting}', '${failed}') GROUP BY 1 ORDER BY 1`,
    );
    expect(after.map(({ document_id, n }) => ({ document_id, n }))).toEqual(before);
    expect(after.every((r) => r.model === 'openai:fake-embed-3')).toBe(true);
  }, 90000);

  it('refuses a model whose vectors pgvector cannot index, saying what to configure', async () => {
    await expect(startApp({ ...hosted(), EMBEDDING_MODEL: 'fake-large', EMBEDDING_DIMENSION: '3072' }, { api: true, worker: false })).rejects.toThrow(
      /HNSW index takes vectors of at most 2000 dimensions, not 3072: configure a smaller EMBEDDING_DIMENSION/,
    );
    expect((await reindexStatus()).reindex).toMatchObject({ state: 'complete', model: 'openai:fake-embed-3' });
  });
});
