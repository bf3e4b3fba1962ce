import { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { INGEST_QUEUE } from '../src/ingest/queue/ingest.jobs';
import { ChunkRepository } from '../src/vector-store/chunk.repository';
import { TOPICS } from './support/corpus';
import { TestApp, postJson, startApp, waitForDocument } from './support/test-app';

interface ChunkResult {
  documentId: string;
  chunkId: string;
  chunkIndex: number;
  content: string;
  context: string | null;
  score: number;
  ranks: { vector?: number; keyword?: number };
  metadata: Record<string, unknown>;
  title: string | null;
  externalId: string | null;
}

// Long documents that mention an identifier once, among ordinary prose.
const RM_MANUAL = [
  'The rm command removes each given file. By default it does not remove directories.',
  'With the recursive option it removes directories and their contents, asking no questions when forced.',
  'As a safety measure rm refuses to operate recursively on the top of the file system hierarchy unless it is given --no-preserve-root, which nobody should ever need.',
  'Removing a file only unlinks its name; the space is freed when no process holds it open any more.',
  'To remove a file whose name starts with a dash, put two dashes before the name or prefix it with a dot and a slash.',
].join(' ');
const STREAM_ERRORS = [
  'Streams report problems through the error event. Readable streams end with the end event, writable streams finish with the finish event.',
  'If a pipeline is torn down before the data has been fully written or read, the callback receives ERR_STREAM_PREMATURE_CLOSE, which usually means the other side went away.',
  'Back-pressure keeps memory bounded: write returns false when the internal buffer is full, and the drain event says when to continue.',
  'Object mode streams carry arbitrary values instead of bytes and count objects instead of bytes for their high water mark.',
].join(' ');
// Short texts that share the queries' ordinary words, so lexical vectors rank them first.
const DISTRACTORS = [
  'No, preserve the root. Root and preserve: no root, no preserve.',
  'Preserve root vegetables: no root rots if you preserve it. Root, preserve, no.',
  'No root, no preserve. Preserve the root of the problem, root and all, no.',
  'Root preserve no: the root preserve keeps no root and no preserve.',
  'Stream error: the stream error closed the stream. Premature error, premature stream.',
  'Error in the stream: premature close of the stream error. Stream, error, close, premature.',
  'Premature stream close error: stream error close premature, error stream.',
  'Close the stream on error: a premature stream error, a stream close.',
];

async function search(t: TestApp, body: Record<string, unknown>): Promise<{ status: number; results: ChunkResult[]; body: any }> {
  const res = await postJson(t.url, '/v1/search', body);
  return { status: res.status, results: res.body?.results ?? [], body: res.body };
}

describe('search: hybrid, keyword and vector modes, document grouping, filters (hash provider)', () => {
  let t: TestApp;
  let db: DataSource;
  const ns = `search-${Date.now()}`;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    // Reciprocal rank fusion with equal list weights and k = 60, of chunks, stated so the fused
    // scores below are known (the default relative fusion, and fusion by document, are
    // covered by search-fusion.e2e-spec).
    t = await startApp({ SEARCH_FUSION: 'rrf', SEARCH_RRF_K: '60', SEARCH_VECTOR_WEIGHT: '1', SEARCH_KEYWORD_WEIGHT: '1', SEARCH_IDENTIFIER_KEYWORD_WEIGHT: '1', SEARCH_FUSE_DOCUMENTS: 'false' });
    db = t.app.get<DataSource>(getDataSourceToken());
    const docs: Array<[string, string, string]> = [
      ['rm', 'rm manual', RM_MANUAL],
      ['streams', 'Stream errors', STREAM_ERRORS],
      ...DISTRACTORS.map((c, i): [string, string, string] => [`distractor${i}`, `note ${i}`, c]),
      ...Object.entries(TOPICS).map(([k, c]): [string, string, string] => [k, k, c]),
    ];
    for (const [key, title, content] of docs) {
      const res = await postJson(t.url, '/v1/documents', { content, title, namespace: ns, metadata: { key } });
      expect(res.status).toBe(202);
      ids[key] = res.body.id;
    }
    for (const id of Object.values(ids)) await waitForDocument(t.url, id, (d) => d.status === 'ready');
  });
  afterAll(async () => {
    await t.app.get<Queue>(getQueueToken(INGEST_QUEUE)).obliterate({ force: true });
    await t.close();
  });

  const docIds = (results: Array<{ documentId: string }>): string[] => results.map((r) => r.documentId);

  it('keyword mode finds an exact flag and an exact error code that vector search misses', async () => {
    for (const [query, key] of [
      ['--no-preserve-root', 'rm'],
      ['stream error ERR_STREAM_PREMATURE_CLOSE', 'streams'],
    ]) {
      const vector = await search(t, { query, namespace: ns, topK: 3, mode: 'vector' });
      const keyword = await search(t, { query, namespace: ns, topK: 3, mode: 'keyword' });
      expect(vector.status).toBe(200);
      expect(docIds(vector.results)).not.toContain(ids[key]);
      expect(keyword.status).toBe(200);
      expect(keyword.results[0].documentId).toBe(ids[key]);
      expect(keyword.results[0].ranks).toEqual({ keyword: 1 });
    }
  });

  it('hybrid mode finds both identifier questions and ordinary ones', async () => {
    const flag = await search(t, { query: 'what does --no-preserve-root do', namespace: ns, topK: 3 });
    expect(flag.body.mode).toBe('hybrid');
    expect(docIds(flag.results)).toContain(ids.rm);
    const code = await search(t, { query: 'stream error ERR_STREAM_PREMATURE_CLOSE', namespace: ns, topK: 3 });
    expect(docIds(code.results)).toContain(ids.streams);
    const prose = await search(t, { query: 'moons of Jupiter discovered by Galileo', namespace: ns, topK: 3 });
    expect(prose.results[0].documentId).toBe(ids.astronomy);
    // The top hit is in both lists here, and its fused score is the sum of both reciprocal ranks.
    expect(prose.results[0].ranks.vector).toBe(1);
    expect(prose.results[0].ranks.keyword).toBe(1);
    expect(prose.results[0].score).toBeCloseTo(2 / 61, 10);
  });

  it('returns the documented fields, scores best first, and ranks from the lists a result came from', async () => {
    for (const mode of ['hybrid', 'vector', 'keyword']) {
      const res = await search(t, { query: 'tomato plants need sun', namespace: ns, topK: 5, mode });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ mode, groupBy: 'chunk' });
      expect(res.results.length).toBeGreaterThan(0);
      for (const r of res.results) {
        expect(Object.keys(r).sort()).toEqual(
          ['chunkId', 'chunkIndex', 'content', 'context', 'documentId', 'externalId', 'metadata', 'ranks', 'score', 'title'].sort(),
        );
        if (mode === 'vector') expect(Object.keys(r.ranks)).toEqual(['vector']);
        if (mode === 'keyword') expect(Object.keys(r.ranks)).toEqual(['keyword']);
        if (mode === 'hybrid') expect(r.ranks.vector ?? r.ranks.keyword).toBeDefined();
      }
      const scores = res.results.map((r) => r.score);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
      expect(res.results[0]).toMatchObject({ documentId: ids.gardening, title: 'gardening', metadata: { key: 'gardening' } });
    }
  });

  it('groupBy document returns each document once with its best chunks', async () => {
    const content = Array.from({ length: 12 }, (_, i) => `Kettle descaling step ${i}: vinegar and water dissolve limescale in the kettle.`).join('\n\n');
    const posted = await postJson(t.url, '/v1/documents', { content, title: 'Kettle care', namespace: ns, chunking: { size: 120, overlap: 0 } });
    await waitForDocument(t.url, posted.body.id, (d) => d.status === 'ready');

    const chunks = await search(t, { query: 'kettle limescale vinegar', namespace: ns, topK: 4 });
    expect(chunks.results.every((r) => r.documentId === posted.body.id)).toBe(true);

    const grouped = await search(t, { query: 'kettle limescale vinegar', namespace: ns, topK: 4, groupBy: 'document', chunksPerDocument: 2 });
    expect(grouped.status).toBe(200);
    expect(grouped.body.groupBy).toBe('document');
    const docs = grouped.body.results as Array<{ documentId: string; title: string; score: number; chunks: ChunkResult[] }>;
    expect(docs).toHaveLength(4);
    expect(new Set(docs.map((d) => d.documentId)).size).toBe(4);
    expect(docs[0]).toMatchObject({ documentId: posted.body.id, title: 'Kettle care' });
    expect(docs[0].chunks).toHaveLength(2);
    expect(docs[0].score).toBe(docs[0].chunks[0].score);
    expect(docs.map((d) => d.score)).toEqual(docs.map((d) => d.score).sort((a, b) => b - a));
    expect(Object.keys(docs[0].chunks[0]).sort()).toEqual(['chunkId', 'chunkIndex', 'content', 'context', 'ranks', 'score'].sort());
  });

  it('indexes a chunk context for keywords while returning the original content', async () => {
    const [doc]: Array<{ id: string }> = await db.query(
      `INSERT INTO documents (namespace, title, metadata, content_sha256, content_length, pipeline, pipeline_hash, status)
       VALUES ($1, 'Operations handbook', '{}', repeat('0', 64), 10, '{}', 'x', 'ready') RETURNING id`,
      [ns],
    );
    const content = 'Raise the limit on open files before starting the service.';
    await db.transaction((em) =>
      t.app.get(ChunkRepository).replaceChunks(em, 'chunks', doc.id, ns, 'hash:test', [
        { index: 0, content, contentSha256: '0'.repeat(64), metadata: {}, embedding: unit(384, 7), context: 'Operations handbook > Kernel tuning' },
      ]),
    );
    const res = await search(t, { query: 'kernel tuning', namespace: ns, topK: 3, mode: 'keyword' });
    expect(res.results[0]).toMatchObject({ documentId: doc.id, content, context: 'Operations handbook > Kernel tuning' });
  });

  it("records each chunk's markdown heading path in its metadata, and groups by the document's own metadata", async () => {
    const intro = Array.from({ length: 40 }, (_, i) => `Setup note ${i} covers the host.`).join(' ');
    const content = `# Setup\n\n${intro}\n\n## Kernel limits\n\nRaise nofile before the quarterly migration starts.`;
    const res = await postJson(t.url, '/v1/documents', { content, title: 'Runbook', namespace: ns, metadata: { key: 'runbook' } });
    await waitForDocument(t.url, res.body.id, (d) => d.status === 'ready');
    const hit = await search(t, { query: 'quarterly migration nofile', namespace: ns, topK: 1, mode: 'keyword' });
    expect(hit.results[0]).toMatchObject({ documentId: res.body.id, metadata: { key: 'runbook', headingPath: ['Setup', 'Kernel limits'] } });
    const grouped = await search(t, { query: 'quarterly migration nofile', namespace: ns, topK: 1, mode: 'keyword', groupBy: 'document' });
    expect(grouped.body.results[0].metadata).toEqual({ key: 'runbook' });
  });

  it('rejects unknown modes and groupings with 400', async () => {
    expect((await search(t, { query: 'x', mode: 'fuzzy' })).status).toBe(400);
    expect((await search(t, { query: 'x', groupBy: 'namespace' })).status).toBe(400);
    expect((await search(t, { query: 'x', groupBy: 'document', chunksPerDocument: 0 })).status).toBe(400);
  });

  describe('a filter matching 1% of 3,000 chunks', () => {
    const fns = `filter-${Date.now()}`;
    beforeAll(async () => {
      const [doc]: Array<{ id: string }> = await db.query(
        `INSERT INTO documents (namespace, title, metadata, content_sha256, content_length, pipeline, pipeline_hash, status)
         VALUES ($1, 'bulk', '{}', repeat('0', 64), 1, '{}', 'x', 'ready') RETURNING id`,
        [fns],
      );
      // Random unit-ish vectors; every 100th chunk is tagged rare. All share the word "record".
      await db.query(
        `INSERT INTO chunks (id, document_id, namespace, chunk_index, content, content_sha256, char_count, metadata, model, embedding)
         SELECT gen_random_uuid(), $1, $2, g, 'record number ' || g, repeat('0', 64), 20,
                jsonb_build_object('tag', CASE WHEN g % 100 = 0 THEN 'rare' ELSE 'common' END, 'n', g),
                'hash:test', (SELECT array_agg(random() - 0.5)::real[] FROM generate_series(1, 384) WHERE g >= 0)::vector
           FROM generate_series(0, 2999) g`,
        [doc.id, fns],
      );
      await db.query('ANALYZE chunks');
    });

    it('still returns topK rows in every mode', async () => {
      for (const mode of ['vector', 'hybrid', 'keyword']) {
        const res = await search(t, { query: 'record', namespace: fns, topK: 20, mode, filter: { tag: 'rare' } });
        expect(res.status).toBe(200);
        expect(res.results).toHaveLength(20);
        expect(res.results.every((r) => r.metadata.tag === 'rare')).toBe(true);
      }
      const inList = await search(t, {
        query: 'record',
        namespace: fns,
        topK: 30,
        mode: 'vector',
        filter: { tag: 'rare', n: { $in: [0, 100, 200, 7] } },
      });
      expect(inList.results.map((r) => r.metadata.n).sort()).toEqual([0, 100, 200]);
    });

    it('needs the iterative scan: through the HNSW index, a post-filtered scan alone finds too few rows', async () => {
      const probe = (iterative: string) =>
        db.transaction(async (em) => {
          // Force the HNSW path (a table this small would otherwise be scanned and sorted exactly).
          for (const knob of ['enable_seqscan', 'enable_bitmapscan', 'enable_sort']) await em.query(`SET LOCAL ${knob} = off`);
          await em.query('SET LOCAL hnsw.ef_search = 40');
          await em.query(`SET LOCAL hnsw.iterative_scan = ${iterative}`);
          const [row]: Array<{ e: string }> = await em.query('SELECT embedding::text AS e FROM chunks WHERE namespace = $1 LIMIT 1', [fns]);
          // As the search's vector list says it: the shared index holds the chunks of namespaces without one of their own.
          const sql = `SELECT id FROM chunks c WHERE c.namespace = $1 AND c.metadata @> '{"tag":"rare"}' AND NOT c.own_index
                        ORDER BY c.embedding <=> $2::vector LIMIT 20`;
          const plan: Array<{ 'QUERY PLAN': string }> = await em.query(`EXPLAIN ${sql}`, [fns, row.e]);
          expect(plan.map((p) => p['QUERY PLAN']).join('\n')).toContain('chunks_embedding_hnsw_idx');
          return (await em.query(sql, [fns, row.e])).length as number;
        });
      expect(await probe('off')).toBeLessThan(20);
      expect(await probe('relaxed_order')).toBe(20);
    });
  });

  describe('injection attempts through filters and queries', () => {
    const hostile = [
      "'; DROP TABLE chunks; --",
      "key') OR 1=1 --",
      '$1',
      'tag" : "rare',
      "@> '{}'",
      '?| array[\'tag\']',
      "metadata->>'tag'",
      '\\\\',
    ];

    it('treats hostile keys and values as plain data: 200 with no rows (or 400), tables intact', async () => {
      const before: Array<{ n: string }> = await db.query('SELECT count(*) AS n FROM chunks');
      for (const text of hostile) {
        for (const filter of [{ [text]: 'x' }, { key: text }, { key: { $in: [text, 1, true] } }, { [text]: { $in: [text] } }]) {
          for (const mode of ['hybrid', 'keyword']) {
            const res = await search(t, { query: 'tomato', namespace: ns, mode, filter });
            expect([200, 400]).toContain(res.status);
            if (res.status === 200) expect(res.results).toEqual([]);
          }
        }
        const q = await search(t, { query: text, namespace: ns, mode: 'keyword' });
        expect(q.status).toBe(200);
      }
      for (const filter of [{ key: { $ne: 'x' } }, { key: { $in: [] } }, { key: { a: 1 } }, { key: null }, { '': 'x' }, ['key']]) {
        expect((await search(t, { query: 'tomato', namespace: ns, filter })).status).toBe(400);
      }
      const after: Array<{ n: string }> = await db.query('SELECT count(*) AS n FROM chunks');
      expect(after[0].n).toBe(before[0].n);
      const tables: Array<{ n: string }> = await db.query(`SELECT count(*) AS n FROM pg_tables WHERE tablename IN ('chunks', 'documents')`);
      expect(Number(tables[0].n)).toBe(2);
    });

    it('matches keys and values that contain quotes exactly, like any other text', async () => {
      const res = await postJson(t.url, '/v1/documents', {
        content: 'Tomato soup with basil.',
        namespace: ns,
        metadata: { "it's": "o'clock", 'a"b': '$1' },
      });
      await waitForDocument(t.url, res.body.id, (d) => d.status === 'ready');
      const hit = await search(t, { query: 'tomato', namespace: ns, filter: { "it's": "o'clock", 'a"b': '$1' } });
      expect(docIds(hit.results)).toEqual([res.body.id]);
    });
  });
});

/** A deterministic unit vector with a single non-zero dimension. */
function unit(dimension: number, at: number): number[] {
  return Array.from({ length: dimension }, (_, i) => (i === at ? 1 : 0));
}
