import { Client } from 'pg';
import { HashEmbeddingProvider } from '../src/embedding/hash-embedding.provider';
import { TestApp, postJson, startApp } from './support/test-app';
import { waitUntil } from './support/wait';
import { WorkerSupervisor } from './support/worker-supervisor';

/**
 * Backfill mode (`POST /v1/documents/batch` with `mode: backfill`): the namespace's
 * chunks are written without HNSW maintenance, searched exactly meanwhile, and get an
 * HNSW index of their own once every document is in. Vector search goes through the
 * index (SEARCH_EXACT_MAX_CHUNKS=0), so its results are compared with an exact ranking.
 */
const ENV = { BACKFILL_INTERVAL_MS: '100', BACKFILL_QUIET_MS: '300', SEARCH_EXACT_MAX_CHUNKS: '0' };
const QUERIES = ['tomato soil watering', 'database index vacuum planner', 'planet moon storm', 'rice butter stock', 'chain tyre gears'];
const WORDS = (
  'tomato soil sun water prune stem branch mulch summer index table row vacuum planner scan statistics planet jupiter moon ' +
  'storm giant galileo rice butter stock risotto parmesan ladle tyre chain cassette gears rain pressure ride'
).split(' ');
const embedder = new HashEmbeddingProvider(384);

/** Documents of ~2,500 characters of seeded random words (several chunks each). */
function corpus(seed: number, count: number, namespace: string): Array<{ content: string; namespace: string; externalId: string }> {
  let state = seed;
  const next = (): number => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  return Array.from({ length: count }, (_, i) => {
    const sentences = Array.from({ length: 40 }, () => Array.from({ length: 8 }, () => WORDS[Math.floor(next() * WORDS.length)]).join(' ') + '.');
    return { content: sentences.join(' '), namespace, externalId: `doc-${i}` };
  });
}

interface BackfillStatus {
  state: string;
  done: boolean;
  vectorSearch: string;
  documents: { queued: number; processing: number; ready: number; failed: number };
  index: { name: string; valid: boolean; rowsIndexed: number | null; maintenanceWorkMem: string | null } | null;
}

async function status(t: TestApp, ns: string): Promise<BackfillStatus> {
  const res = await fetch(`${t.url}/v1/namespaces/${ns}/backfill`);
  expect(res.status).toBe(200);
  return (await res.json()) as BackfillStatus;
}

describe('backfill mode', () => {
  let db: Client;

  beforeAll(async () => {
    db = new Client({ connectionString: process.env.DATABASE_URL });
    await db.connect();
  });
  afterAll(async () => {
    await db.end();
  });

  /** The chunk ids of the exact 10 nearest chunks of the namespace. */
  async function exactTop10(ns: string, query: string): Promise<string[]> {
    const [v] = await embedder.embed([query]);
    const r = await db.query<{ id: string }>(
      `SELECT id FROM chunks WHERE namespace = $1 ORDER BY (embedding <=> $2::vector) + 0, id LIMIT 10`,
      [ns, `[${v.join(',')}]`],
    );
    return r.rows.map((row) => row.id);
  }

  async function searchTop10(t: TestApp, ns: string, query: string): Promise<string[]> {
    const res = await postJson(t.url, '/v1/search', { query, namespace: ns, mode: 'vector', topK: 10 });
    expect(res.status).toBe(200);
    return (res.body.results as Array<{ chunkId: string }>).map((r) => r.chunkId);
  }

  async function expectSearchIsExact(t: TestApp, ns: string): Promise<void> {
    for (const q of QUERIES) expect(await searchTop10(t, ns, q)).toEqual(await exactTop10(ns, q));
  }

  /**
   * The plan of the search's vector list for `ns`, with the namespace a bound parameter as the service sends it,
   * sorting disabled: an index scan in it shows the index's predicate is implied (a small namespace is otherwise sorted).
   */
  async function vectorPlan(ns: string, ownIndex: boolean): Promise<string> {
    const [v] = await embedder.embed(['plan probe']);
    await db.query('SET enable_sort = off');
    try {
      const r = await db.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN SELECT c.id FROM chunks c WHERE c.namespace = $1 AND ${ownIndex ? '' : 'NOT '}c.own_index ORDER BY c.embedding <=> $2::vector LIMIT 50`,
        [ns, `[${v.join(',')}]`],
      );
      return r.rows.map((row) => row['QUERY PLAN']).join('\n');
    } finally {
      await db.query('RESET enable_sort');
    }
  }

  async function indexValid(name: string): Promise<boolean> {
    const r = await db.query<{ valid: boolean }>(`SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = to_regclass($1)`, [name]);
    return r.rows[0]?.valid === true;
  }

  describe('with API and worker in one process', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startApp(ENV);
    });
    afterAll(async () => {
      await t.close();
    });

    it('ends with every document ready, the namespace index built, and search equal to exact search', async () => {
      const ns = `backfill-${Date.now()}`;
      const res = await postJson(t.url, '/v1/documents/batch', { mode: 'backfill', documents: corpus(1, 40, ns) });
      expect(res.status).toBe(200);
      expect(res.body.results.every((r: { status: string }) => r.status === 'accepted')).toBe(true);

      const done = await waitUntil('the backfill to finish', () => status(t, ns), (s) => s.done, { timeoutMs: 60000, intervalMs: 100 });
      expect(done).toMatchObject({ state: 'ready', vectorSearch: 'own-index', documents: { queued: 0, processing: 0, ready: 40, failed: 0 } });
      const chunks = await db.query<{ n: number; own: number }>(
        `SELECT count(*)::int AS n, count(*) FILTER (WHERE own_index)::int AS own FROM chunks WHERE namespace = $1`,
        [ns],
      );
      expect(chunks.rows[0].n).toBeGreaterThan(40);
      expect(chunks.rows[0].own).toBe(chunks.rows[0].n);
      expect(done.index?.rowsIndexed).toBe(chunks.rows[0].n);
      expect(await indexValid(done.index!.name)).toBe(true);
      // The namespace's partial index serves its searches, the namespace bound as a parameter.
      expect(await vectorPlan(ns, true)).toContain(`Index Scan using ${done.index!.name}`);
      await expectSearchIsExact(t, ns);

      // A document posted live afterwards joins the namespace's own index and is found.
      const live = await postJson(t.url, '/v1/documents', { content: 'zebra giraffe savanna migration herds', namespace: ns });
      expect(live.status).toBe(202);
      await waitUntil('the live document', () => status(t, ns), (s) => s.documents.ready === 41);
      expect((await searchTop10(t, ns, 'zebra giraffe savanna migration herds'))[0]).toBe((await exactTop10(ns, 'zebra giraffe savanna migration herds'))[0]);

      // Another import into the ready namespace: its index is dropped, then built again over every row.
      const again = await postJson(t.url, '/v1/documents/batch', { mode: 'backfill', documents: corpus(5, 20, ns).map((d) => ({ ...d, externalId: `more-${d.externalId}` })) });
      expect(again.status).toBe(200);
      expect((await status(t, ns)).state).toBe('loading');
      expect(await indexValid(done.index!.name)).toBe(false);
      const rebuilt = await waitUntil('the second backfill', () => status(t, ns), (s) => s.done && s.documents.ready === 61, { timeoutMs: 60000, intervalMs: 100 });
      const total = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM chunks WHERE namespace = $1`, [ns]);
      expect(rebuilt.index?.rowsIndexed).toBe(total.rows[0].n);
      await expectSearchIsExact(t, ns);
    });

    it('leaves live ingest and search in another namespace on the shared index meanwhile', async () => {
      const bulk = `backfill-bulk-${Date.now()}`;
      const other = `live-${Date.now()}`;
      const backfill = postJson(t.url, '/v1/documents/batch', { mode: 'backfill', documents: corpus(2, 40, bulk) });
      const lives = corpus(3, 10, other).map((d) => postJson(t.url, '/v1/documents', d));
      expect((await backfill).status).toBe(200);
      for (const r of await Promise.all(lives)) expect(r.status).toBe(202);

      await waitUntil('the backfill to finish', () => status(t, bulk), (s) => s.done, { timeoutMs: 60000, intervalMs: 100 });
      const otherStatus = await waitUntil('the live documents', () => status(t, other), (s) => s.documents.ready === 10);
      expect(otherStatus).toMatchObject({ state: 'none', vectorSearch: 'shared-index', index: null });
      const flagged = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM chunks WHERE namespace = $1 AND own_index`, [other]);
      expect(flagged.rows[0].n).toBe(0);
      expect(await vectorPlan(other, false)).toContain('Index Scan using chunks_embedding_hnsw_idx');
      await expectSearchIsExact(t, other);
      await expectSearchIsExact(t, bulk);
    });

    it('refuses an unknown mode with a 400', async () => {
      const res = await postJson(t.url, '/v1/documents/batch', { mode: 'bulk', documents: [{ content: 'x' }] });
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body)).toContain('mode must be one of live, backfill');
    });
  });

  describe('with workers in their own processes', () => {
    const prefix = `backfill-crash-${Date.now()}`;
    let api: TestApp;
    let workers: WorkerSupervisor;
    beforeAll(async () => {
      api = await startApp({ ...ENV, QUEUE_PREFIX: prefix }, { api: true, worker: false });
      workers = new WorkerSupervisor({ ...ENV, QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn' });
    });
    afterAll(async () => {
      await workers.stop();
      await api.close();
    });

    it('resumes an index build that a worker crash interrupted, searching exactly meanwhile', async () => {
      const ns = `backfill-crash-${Date.now()}`;
      // A transaction holding the lock every writer holds makes the build wait half-way, its index created but not yet valid.
      const blocker = new Client({ connectionString: process.env.DATABASE_URL });
      await blocker.connect();
      try {
        workers.start(1);
        // The worker is up once it has processed a document.
        const probe = await postJson(api.url, '/v1/documents', { content: 'worker probe', namespace: `${ns}-probe` });
        await waitUntil('the worker to start', () => status(api, `${ns}-probe`), (s) => s.documents.ready === 1, { timeoutMs: 120000, intervalMs: 200 });
        expect(probe.status).toBe(202);
        await blocker.query('BEGIN');
        await blocker.query('LOCK TABLE chunks IN ROW EXCLUSIVE MODE');
        const res = await postJson(api.url, '/v1/documents/batch', { mode: 'backfill', documents: corpus(4, 30, ns) });
        expect(res.status).toBe(200);
        const building = await waitUntil(
          'the index build to start',
          () => status(api, ns),
          (s) => s.state === 'building' && s.index !== null,
          { timeoutMs: 90000, intervalMs: 100 },
        );
        expect(building).toMatchObject({ vectorSearch: 'exact', documents: { ready: 30, queued: 0, processing: 0 } });
        await waitUntil('the half-built index', () => db.query(`SELECT 1 FROM pg_index WHERE indexrelid = to_regclass($1)`, [building.index!.name]), (r) => r.rowCount === 1);
        await expectSearchIsExact(api, ns);

        // The worker dies, and its database session with it.
        const exitsBefore = workers.exits;
        workers.crash();
        await db.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'CREATE INDEX CONCURRENTLY%' AND pid <> pg_backend_pid()`);
        await waitUntil('the worker to be restarted', () => workers.exits, (n) => n > exitsBefore);
        expect(await indexValid(building.index!.name)).toBe(false);
      } finally {
        await blocker.query('ROLLBACK').catch(() => undefined);
        await blocker.end();
      }

      const done = await waitUntil('the resumed build', () => status(api, ns), (s) => s.done, { timeoutMs: 90000, intervalMs: 100 });
      expect(done).toMatchObject({ state: 'ready', vectorSearch: 'own-index', documents: { ready: 30, failed: 0 } });
      expect(await indexValid(done.index!.name)).toBe(true);
      await expectSearchIsExact(api, ns);
    }, 300000);
  });
});
