import { DataSource } from 'typeorm';
import { AttemptRecord, DocumentsRepository } from '../src/documents/documents.repository';
import { HashEmbeddingProvider } from '../src/embedding/hash-embedding.provider';
import { draftChunks } from '../src/ingest/chunking/chunk-drafts';
import { FinishedDocument, ReadyCommits } from '../src/ingest/worker/ready-commits';
import { GenerationWriter } from '../src/vector-store/generations/generation-writer';
import { LiveGenerations } from '../src/vector-store/generations/live-generations';
import { TestApp, postJson, startApp } from './support/test-app';
import { waitUntil } from './support/wait';

const NS = 'grouped-commits';
const embedder = new HashEmbeddingProvider(384);

/** A text of several chunks, different for every `tag`. */
function text(tag: string): string {
  return Array.from({ length: 6 }, (_, i) => `Section ${i} of ${tag}. ` + `The ${tag} handbook explains step ${i} in detail. `.repeat(12)).join('\n\n');
}

interface StoredChunks {
  document_id: string;
  n: number;
  indexes: number[];
  contents: string[];
}

/**
 * The write stage's grouping of finished documents (ReadyCommits) against real Postgres:
 * several documents per transaction, each still all-or-nothing, none lost or duplicated.
 */
describe('grouped commits of finished documents', () => {
  let api: TestApp;
  let db: DataSource;
  let documents: DocumentsRepository;
  let commits: ReadyCommits;
  let live: LiveGenerations;
  let seq = 0;

  beforeAll(async () => {
    // No workers: the tests claim and finish documents themselves. A long window, so every
    // document a test finishes at once lands in one group.
    api = await startApp({ WRITE_GROUP_WINDOW_MS: '200' }, { api: true, worker: false });
    db = api.app.get(DataSource);
    documents = api.app.get(DocumentsRepository, { strict: false });
    live = api.app.get(LiveGenerations, { strict: false });
    commits = new ReadyCommits(documents, api.app.get(GenerationWriter, { strict: false }), api.config);
  });
  afterAll(async () => {
    await api?.close();
  });

  /** Posts `n` documents, claims each as a worker would, and embeds its chunks: ready to commit. */
  async function finished(n: number): Promise<Array<FinishedDocument & { texts: string[] }>> {
    const active = (await live.current()).active;
    const out: Array<FinishedDocument & { texts: string[] }> = [];
    for (let i = 0; i < n; i++) {
      const tag = `doc-${process.pid}-${seq++}`;
      const posted = await postJson(api.url, '/v1/documents', { namespace: NS, externalId: tag, title: tag, content: text(tag) });
      expect(posted.status).toBe(202);
      const doc = await documents.claim(posted.body.id, posted.body.version);
      if (!doc) throw new Error('could not claim a new document');
      const drafts = draftChunks(doc, text(tag));
      const vectors = await embedder.embed(drafts.map((d) => d.textToEmbed));
      const attempt: AttemptRecord = {
        documentId: doc.id, version: doc.version, attempt: doc.attempts, startedAt: new Date(), outcome: 'ready', stage: null, errorClass: null, message: null,
      };
      out.push({
        doc,
        writes: [{ generation: active, modelId: embedder.modelId, chunks: drafts.map((d, j) => ({ ...d, embedding: vectors[j] })) }],
        chunkCount: drafts.length,
        usage: { tokens: 1, characters: 1, embeddedTexts: drafts.length, cachedTexts: 0, tokensEstimated: true },
        attempt,
        texts: drafts.map((d) => d.content),
      });
    }
    return out;
  }

  async function chunksOf(ids: string[]): Promise<Map<string, StoredChunks>> {
    const rows: StoredChunks[] = await db.query(
      `SELECT document_id, count(*)::int AS n, array_agg(chunk_index ORDER BY chunk_index) AS indexes, array_agg(content ORDER BY chunk_index) AS contents
         FROM chunks WHERE document_id = ANY($1::uuid[]) GROUP BY document_id`,
      [ids],
    );
    return new Map(rows.map((r) => [r.document_id, r]));
  }

  async function rowsOf(ids: string[]): Promise<Array<{ id: string; status: string; chunk_count: number | null; completed_at: Date; ready_attempts: number }>> {
    return db.query(
      `SELECT d.id, d.status, d.chunk_count, d.completed_at,
              (SELECT count(*)::int FROM document_attempts a WHERE a.document_id = d.id AND a.outcome = 'ready') AS ready_attempts
         FROM documents d WHERE d.id = ANY($1::uuid[])`,
      [ids],
    );
  }

  it('writes documents that finish together in one transaction, each with exactly its own chunks', async () => {
    const group = await finished(6);
    const outcomes = await Promise.all(group.map((f) => commits.commit(f)));
    expect(outcomes).toEqual(group.map(() => 'ready'));

    const ids = group.map((f) => f.doc.id);
    const stored = await chunksOf(ids);
    for (const f of group) {
      const s = stored.get(f.doc.id);
      expect(s?.indexes).toEqual(f.texts.map((_, i) => i));
      expect(s?.contents).toEqual(f.texts);
    }
    const rows = await rowsOf(ids);
    for (const r of rows) {
      expect(r.status).toBe('ready');
      expect(r.chunk_count).toBe(stored.get(r.id)?.n);
      expect(r.ready_attempts).toBe(1);
    }
    // completed_at is the transaction's start: one value means one transaction.
    expect(new Set(rows.map((r) => r.completed_at.getTime())).size).toBe(1);
  });

  it('answers stale for a document whose version moved on, writing nothing of it, and commits the rest', async () => {
    const group = await finished(4);
    const moved = group[1];
    // A new version is posted while the old one is being written.
    const again = await postJson(api.url, '/v1/documents', { namespace: NS, externalId: moved.doc.title, title: moved.doc.title, content: 'changed text' });
    expect(again.body.version).toBe(moved.doc.version + 1);

    const outcomes = await Promise.all(group.map((f) => commits.commit(f)));
    expect(outcomes).toEqual(['ready', 'stale', 'ready', 'ready']);
    const stored = await chunksOf(group.map((f) => f.doc.id));
    expect(stored.has(moved.doc.id)).toBe(false);
    for (const f of [group[0], group[2], group[3]]) expect(stored.get(f.doc.id)?.n).toBe(f.texts.length);
    const rows = new Map((await rowsOf([moved.doc.id])).map((r) => [r.id, r]));
    expect(rows.get(moved.doc.id)).toMatchObject({ status: 'queued', ready_attempts: 0 });
  });

  it('writes a document finished twice in one group once', async () => {
    const [f, other] = await finished(2);
    const outcomes = await Promise.all([commits.commit(f), commits.commit(other), commits.commit(f)]);
    expect(outcomes).toEqual(['ready', 'ready', 'stale']);
    const stored = await chunksOf([f.doc.id, other.doc.id]);
    expect(stored.get(f.doc.id)?.indexes).toEqual(f.texts.map((_, i) => i));
    expect((await rowsOf([f.doc.id]))[0].ready_attempts).toBe(1);
  });

  it('fails a document that cannot be written alone, leaving nothing of it, and commits the rest of its group', async () => {
    const group = await finished(5);
    const bad = group[2];
    // A vector of the wrong dimension: Postgres refuses the row, and so the group's transaction.
    bad.writes[0].chunks[1] = { ...bad.writes[0].chunks[1], embedding: [1, 0, 0] };

    const settled = await Promise.allSettled(group.map((f) => commits.commit(f)));
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(String((settled[2] as PromiseRejectedResult).reason)).toContain('dimensions');

    const stored = await chunksOf(group.map((f) => f.doc.id));
    expect(stored.has(bad.doc.id)).toBe(false);
    const rows = new Map((await rowsOf(group.map((f) => f.doc.id))).map((r) => [r.id, r]));
    expect(rows.get(bad.doc.id)).toMatchObject({ status: 'processing', ready_attempts: 0 });
    for (const f of group.filter((x) => x !== bad)) {
      expect(stored.get(f.doc.id)?.indexes).toEqual(f.texts.map((_, i) => i));
      expect(rows.get(f.doc.id)).toMatchObject({ status: 'ready', chunk_count: f.texts.length, ready_attempts: 1 });
    }
  });
});

describe('grouped commits through the service', () => {
  let app: TestApp | undefined;
  afterAll(async () => {
    await app?.close();
  });

  it('makes every posted document ready with its chunks, none lost or duplicated, several per transaction', async () => {
    app = await startApp({ WORKER_CONCURRENCY: '8', WRITE_GROUP_WINDOW_MS: '100' });
    const db = app.app.get(DataSource);
    const tag = `svc-${process.pid}-${Date.now()}`;
    const posted = await Promise.all(
      Array.from({ length: 24 }, (_, i) => postJson(app!.url, '/v1/documents', { namespace: `${NS}-svc`, title: `${tag}-${i}`, content: text(`${tag}-${i}`) })),
    );
    expect(posted.map((p) => p.status)).toEqual(posted.map(() => 202));
    const ids = posted.map((p) => p.body.id as string);
    const rows = await waitUntil(
      'every document ready',
      async () =>
        (await db.query(
          `SELECT d.id, d.status, d.chunk_count, d.completed_at, count(c.id)::int AS n, count(DISTINCT c.chunk_index)::int AS distinct_indexes,
                  coalesce(max(c.chunk_index), -1) AS max_index
             FROM documents d LEFT JOIN chunks c ON c.document_id = d.id
            WHERE d.id = ANY($1::uuid[]) GROUP BY d.id`,
          [ids],
        )) as Array<{ id: string; status: string; chunk_count: number; completed_at: Date; n: number; distinct_indexes: number; max_index: number }>,
      (rs) => rs.length === ids.length && rs.every((r) => r.status === 'ready'),
      { timeoutMs: 60000 },
    );
    for (const r of rows) {
      expect(r.n).toBeGreaterThan(1);
      expect(r.n).toBe(r.chunk_count);
      expect(r.distinct_indexes).toBe(r.n);
      expect(r.max_index).toBe(r.n - 1);
    }
    // Documents committed in one transaction share its start time: some were grouped.
    const perTransaction = new Map<number, number>();
    for (const r of rows) perTransaction.set(r.completed_at.getTime(), (perTransaction.get(r.completed_at.getTime()) ?? 0) + 1);
    expect(Math.max(...perTransaction.values())).toBeGreaterThan(1);
  });
});
