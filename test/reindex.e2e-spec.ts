import { Client } from 'pg';
import { textToEmbed } from '../src/ingest/chunking/chunk-context';
import { FakeOpenAiServer } from './support/fake-openai.server';
import { TOPICS } from './support/corpus';
import { ownDatabase } from './support/own-database';
import { statementsOn } from './support/table-statements';
import { TestApp, postJson, startApp, waitForDocument } from './support/test-app';
import { waitUntil } from './support/wait';

/**
 * A database of its own: a re-embed covers every document, so it must not see the other
 * suites'. Each test gets a fresh copy of `seeded`, which holds the documents ingested
 * with the first model.
 */
const database = ownDatabase('ingest_test_reindex');
const seeded = ownDatabase('ingest_test_reindex_seed');
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
  /** The process under test; `start` replaces it, each test ends by closing it. */
  let t: TestApp | undefined;
  /** The seeded documents, the same in every test's copy of the database. */
  const ids: string[] = [];

  const start = async (...args: Parameters<typeof startApp>): Promise<TestApp> => {
    await t?.close();
    t = undefined;
    t = await startApp(...args);
    return t;
  };
  const search = async (mode = 'vector'): Promise<{ status: number; results: SearchHit[] }> => {
    const res = await postJson(t!.url, '/v1/search', { query: QUERY, namespace: NS, topK: 5, mode });
    return { status: res.status, results: res.body?.results ?? [] };
  };
  const reindexStatus = async (): Promise<ReindexBody> => (await (await fetch(`${t!.url}/v1/reindex`)).json()) as ReindexBody;
  const waitForReindex = (what: string, accept: (body: ReindexBody) => boolean): Promise<ReindexBody> =>
    waitUntil(what, reindexStatus, accept, { timeoutMs: 60000, intervalMs: 100 });
  /** Re-embeds the seeded documents with the hosted model (answering at once); returns the generation it made active. */
  const switchToHosted = async (): Promise<number> => {
    await start(hosted());
    const done = await waitForReindex('the re-embed into openai:fake-embed to complete', (b) => b.reindex?.state === 'complete');
    expect(done.active.model).toBe('openai:fake-embed');
    return done.active.generation;
  };

  beforeAll(async () => {
    await fake.start();
    await seeded.freshMigrated();
    const seeder = await startApp({ ...env, DATABASE_URL: seeded.url });
    try {
      // Twenty-five documents: five topics, five variants each.
      for (let i = 0; i < 25; i++) {
        const [topic, text] = Object.entries(TOPICS)[i % 5];
        const res = await postJson(seeder.url, '/v1/documents', { content: `${text} Variant ${i}.`, title: `${topic} ${i}`, namespace: NS });
        expect(res.status).toBe(202);
        ids.push(res.body.id);
      }
      for (const id of ids) await waitForDocument(seeder.url, id, (d) => d.status === 'ready');
    } finally {
      await seeder.close();
    }
  }, 60000);

  beforeEach(async () => {
    fake.reset();
    await database.fresh(seeded);
  });

  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  afterAll(async () => {
    await fake.stop();
  });

  it('records the first model as the active generation', async () => {
    await start(env);
    const body = await reindexStatus();
    expect(body.active).toMatchObject({ generation: 1, model: 'hash:fnv1a-uni-bigram-384', dimension: 384 });
    expect(body.reindex).toBeNull();
  });

  it('answers every search from the old model until the switch, then from the new one', async () => {
    await start(env);
    const first = (await reindexStatus()).active.generation;
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

    // The new model answers slowly, so the re-embed takes long enough to search through it.
    fake.plan = () => ({ kind: 'ok', delayMs: 150 });
    await start(hosted());
    const started = await postJson(t!.url, '/v1/reindex', {});
    expect(started.status).toBe(202);
    expect(started.body.active).toMatchObject({ generation: first, model: 'hash:fnv1a-uni-bigram-384' });
    expect(started.body.reindex).toMatchObject({ state: 'running', model: 'openai:fake-embed', dimension: 256, previousGeneration: first });
    const next = started.body.reindex.generation as number;
    expect(next).toBeGreaterThan(first);
    expect(started.body.reindex.documents.total).toBe(25);

    let added: string | undefined;
    let searchesWhileRunning = 0;
    const phases = new Set<string>();
    let lastDone = 0;
    const deadline = Date.now() + 90000;
    // Samples search and progress until the re-embed completes.
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
        const res2 = await postJson(t!.url, '/v1/documents', { content: 'A sourdough starter needs flour and water every day.', namespace: NS });
        expect(res2.status).toBe(202);
        added = res2.body.id as string;
        await waitForDocument(t!.url, added, (d) => d.status === 'ready');
        const found = await postJson(t!.url, '/v1/search', { query: 'sourdough starter', namespace: NS, topK: 1, mode: 'vector' });
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
    expect(done.active).toMatchObject({ generation: next, model: 'openai:fake-embed', dimension: 256 });
    expect(done.reindex).toMatchObject({ generation: next, state: 'complete', documents: null });

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

    // Searches now embed the query with the new model (once: the API remembers query vectors
    // per generation), and score with its vectors.
    const after = await search();
    expect(after.status).toBe(200);
    expect(fake.requests.some((r) => r.inputs.includes(QUERY))).toBe(true);
    const q = await fake.vectorOf(QUERY);
    for (const hit of after.results) {
      expect(hit.score).toBeCloseTo(cosine(q, await fake.vectorOf(textToEmbed(hit.context, hit.content))), 5);
    }
    const found = await postJson(t!.url, '/v1/search', { query: 'sourdough starter', namespace: NS, topK: 1, mode: 'vector' });
    expect(found.body.results[0].documentId).toBe(added);

    // The new table kept the old one's storage: vectors and text vectors in the row, short GIN pending lists.
    expect(await query(`SELECT attname, attstorage FROM pg_attribute WHERE attrelid = 'chunks'::regclass AND attname IN ('content_tsv', 'embedding') ORDER BY attname`))
      .toEqual([{ attname: 'content_tsv', attstorage: 'm' }, { attname: 'embedding', attstorage: 'm' }]);
    const gin = await query<{ options: string[] | null }>(
      `SELECT c.reloptions AS options FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
        WHERE i.indrelid = 'chunks'::regclass AND a.amname = 'gin'`,
    );
    expect(gin).toHaveLength(2);
    for (const index of gin) expect(index.options).toContain('gin_pending_list_limit=1024');
  }, 120000);

  it('never undoes a model change on its own: a process still configured with the old model serves the new one', async () => {
    const generation = await switchToHosted();
    await start(env, { api: true, worker: false });
    const body = await reindexStatus();
    expect(body.active).toMatchObject({ generation, model: 'openai:fake-embed' });
    expect(body.reindex).toMatchObject({ generation, state: 'complete' });
    // Its queries are embedded with the active model, rebuilt from the stored settings.
    const sent = fake.requests.length;
    expect((await search()).results.length).toBe(5);
    expect(fake.requests.slice(sent).some((r) => r.inputs.includes(QUERY))).toBe(true);
  }, 90000);

  it('cancels a re-embed without touching search', async () => {
    const active = await switchToHosted();
    // API only, configured with the model the active generation replaced: going back takes an explicit POST.
    await start(env, { api: true, worker: false });
    const started = await postJson(t!.url, '/v1/reindex', {});
    expect(started.status).toBe(202);
    expect(started.body.reindex).toMatchObject({ state: 'running', model: 'hash:fnv1a-uni-bigram-384', previousGeneration: active });
    const generation = started.body.reindex.generation as number;
    expect(generation).toBeGreaterThan(active);
    const again = await postJson(t!.url, '/v1/reindex', {});
    expect(again.body.reindex.generation).toBe(generation);

    const res = await fetch(`${t!.url}/v1/reindex`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as ReindexBody;
    expect(body.reindex).toMatchObject({ generation, state: 'cancelled' });
    expect(body.active.generation).toBe(active);
    expect(await query(`SELECT to_regclass('chunks_next') AS t`)).toEqual([{ t: null }]);
    expect((await search()).results.length).toBe(5);
    expect((await fetch(`${t!.url}/v1/reindex`, { method: 'DELETE' })).status).toBe(404);

    // The cancel sticks: another process configured like this one does not start it again.
    const other = await startApp(env, { api: true, worker: false });
    try {
      const status = (await (await fetch(`${other.url}/v1/reindex`)).json()) as ReindexBody;
      expect(status.reindex).toMatchObject({ generation, state: 'cancelled' });
      expect(status.active.generation).toBe(active);
    } finally {
      await other.close();
    }
  }, 90000);

  it('holds the switch while a document fails for good, and finishes once it is retried', async () => {
    const failing = 'A sourdough starter';
    await start(env);
    const active = (await reindexStatus()).active.generation;
    const posted = await postJson(t!.url, '/v1/documents', { content: `${failing} needs flour and water every day.`, namespace: NS });
    expect(posted.status).toBe(202);
    await waitForDocument(t!.url, posted.body.id, (d) => d.status === 'ready');

    fake.plan = (_n, req) => (req.inputs.some((x) => x.includes(failing)) ? { kind: 'status', status: 400, message: 'input rejected' } : { kind: 'ok' });
    await start({ ...hosted(), EMBEDDING_MODEL: 'fake-embed-2' });
    let body = await waitForReindex('every document to be re-embedded or failed', (b) => {
      const d = b.reindex?.state === 'running' ? b.reindex.documents : null;
      return d !== null && d.done + d.failed === d.total;
    });
    expect(body.reindex).toMatchObject({ state: 'running', model: 'openai:fake-embed-2', previousGeneration: active, documents: { total: 26, done: 25, failed: 1 } });
    const building = body.reindex!.generation;
    expect((body.reindex as unknown as { documents: { errors: Array<{ error: string }> } }).documents.errors[0].error).toMatch(/embedding_rejected: .*400/);
    // Several coordinator passes later (each goes over the coverage, and asks for the switch
    // once nothing is left to copy) it still waits, and search still answers from the old generation.
    // (A pass that switched would end them: then say so rather than that they stopped.)
    const passes = await statementsOn(DATABASE_URL, 'reindex_documents', 5, 15000).catch((err: unknown) => err);
    expect((await reindexStatus()).active.generation).toBe(active);
    if (passes instanceof Error) throw passes;
    expect((await search()).results.length).toBe(5);

    fake.plan = () => ({ kind: 'ok' });
    const retried = await postJson(t!.url, '/v1/reindex', {});
    expect(retried.status).toBe(202);
    expect(retried.body.reindex).toMatchObject({ generation: building, documents: { failed: 0 } });
    body = await waitForReindex('the re-embed to complete after the retry', (b) => b.reindex?.state === 'complete');
    expect(body.active).toMatchObject({ generation: building, model: 'openai:fake-embed-2' });
    expect(await query(`SELECT count(DISTINCT document_id)::int AS n FROM chunks`)).toEqual([{ n: 26 }]);
  }, 90000);

  it('keeps the chunks of documents that are being processed again, or failed after an update, across the switch', async () => {
    // Two documents whose new version is not ready: one waiting for a worker, one failed for good.
    const [waiting, failed] = [ids[1], ids[2]];
    const before = await query<{ document_id: string; n: number }>(
      `SELECT document_id, count(*)::int AS n FROM chunks WHERE document_id IN ('${waiting}', '${failed}') GROUP BY 1 ORDER BY 1`,
    );
    expect(before).toHaveLength(2);
    await query(`UPDATE documents SET version = version + 1, status = 'queued' WHERE id = '${waiting}'`);
    await query(`UPDATE documents SET version = version + 1, status = 'failed', last_error = 'rejected' WHERE id = '${failed}'`);

    await start({ ...hosted(), EMBEDDING_MODEL: 'fake-embed-3' });
    let body = await reindexStatus();
    expect(body.reindex).toMatchObject({ state: 'running', model: 'openai:fake-embed-3' });
    body = await waitForReindex('the re-embed to complete', (b) => b.reindex?.state === 'complete');
    expect(body.active.model).toBe('openai:fake-embed-3');
    const after = await query<{ document_id: string; n: number; model: string }>(
      `SELECT document_id, count(*)::int AS n, min(model) AS model FROM chunks
        WHERE document_id IN ('${waiting}', '${failed}') GROUP BY 1 ORDER BY 1`,
    );
    expect(after.map(({ document_id, n }) => ({ document_id, n }))).toEqual(before);
    expect(after.every((r) => r.model === 'openai:fake-embed-3')).toBe(true);
  }, 90000);

  it('refuses a model whose vectors pgvector cannot index, saying what to configure', async () => {
    await start(env, { api: true, worker: false });
    const before = await reindexStatus();
    await expect(startApp({ ...hosted(), EMBEDDING_MODEL: 'fake-large', EMBEDDING_DIMENSION: '3072' }, { api: true, worker: false })).rejects.toThrow(
      /HNSW index takes vectors of at most 2000 dimensions, not 3072: configure a smaller EMBEDDING_DIMENSION/,
    );
    // Nothing was started or changed.
    expect(await reindexStatus()).toEqual(before);
  });
});
