import { DataSource } from 'typeorm';
import { loadConfig } from '../src/config/app-config';
import { createDataSource } from '../src/database/data-source';
import { ChunkSearch, SearchRow, searchQuery, toChunkHit } from '../src/vector-store/chunk-search.query';
import { FusionParams } from '../src/vector-store/fusion.query';
import { Generation } from '../src/vector-store/generations/generation';
import { ownDatabase } from './support/own-database';

const database = ownDatabase('ingest_test_search_fusion');
const DIM = 384;

/** A unit-length vector `x·e1 + y·e2`. */
function vec(x: number, y: number): string {
  const v = new Array<number>(DIM).fill(0);
  v[0] = x;
  v[1] = y;
  return `[${v.join(',')}]`;
}

const DOC = { a: '00000000-0000-4000-8000-00000000000a', b: '00000000-0000-4000-8000-00000000000b', c: '00000000-0000-4000-8000-00000000000c' };
/**
 * Query: the vector e1 and the word "zeppelin". Document a has the nearest chunk and no
 * keyword; b has a near chunk with the word once and a far chunk with it three times; c a
 * middling chunk without it. Cosine similarities: a1 1, b1 0.8, c1 0.6, b2 0.
 */
const CHUNKS: Array<[string, string, number, string, string]> = [
  ['10000000-0000-4000-8000-0000000000a1', DOC.a, 0, 'balloons float because hot air is lighter', vec(1, 0)],
  ['10000000-0000-4000-8000-0000000000b1', DOC.b, 0, 'the zeppelin is an airship with a rigid frame', vec(0.8, 0.6)],
  ['10000000-0000-4000-8000-0000000000b2', DOC.b, 1, 'zeppelin zeppelin zeppelin', vec(0, 1)],
  ['10000000-0000-4000-8000-0000000000c1', DOC.c, 0, 'kites need wind and a string', vec(0.6, 0.8)],
];

describe('hybrid fusion SQL: relative score fusion, reciprocal rank fusion, document-level fusion', () => {
  let ds: DataSource;
  const generation = { id: 1, status: 'active' } as Generation;

  async function run(fusion: FusionParams, query = 'zeppelin', mode: ChunkSearch['mode'] = 'hybrid'): Promise<Array<{ id: string; score: number; documentScore?: number }>> {
    const s: ChunkSearch = {
      mode, query, embedding: JSON.parse(vec(1, 0)) as number[], namespace: 'fusion', filter: {},
      limit: 10, candidates: 10, fusion, efSearch: 40, keywordBudget: 1000, exactVectorMaxChunks: 100000, exactVector: true, generation,
    };
    const { sql, params } = searchQuery(s, { candidates: null, limit: 0, total: CHUNKS.length, estimatedDf: [], coordination: null, commonCoordination: null });
    const rows: SearchRow[] = await ds.query(sql, params);
    return rows.map(toChunkHit).map((h) => ({ id: h.chunkId.slice(-2), score: h.score, ...(h.documentScore !== undefined ? { documentScore: h.documentScore } : {}) }));
  }

  beforeAll(async () => {
    await database.fresh();
    ds = createDataSource(loadConfig({ ...process.env, DATABASE_URL: database.url, EMBEDDING_PROVIDER: 'hash', EMBEDDING_DIMENSION: String(DIM) }));
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
    for (const id of Object.values(DOC)) {
      await ds.query(
        `INSERT INTO documents (id, namespace, content_sha256, content_length, pipeline, pipeline_hash, status)
         VALUES ($1, 'fusion', repeat('0', 64), 0, '{}', repeat('0', 16), 'ready')`,
        [id],
      );
    }
    for (const [id, doc, index, content, embedding] of CHUNKS) {
      await ds.query(
        `INSERT INTO chunks (id, document_id, namespace, chunk_index, content, content_sha256, char_count, model, embedding)
         VALUES ($1, $2, 'fusion', $3, $4, repeat('0', 64), char_length($4), 'hash:test', $5::vector)`,
        [id, doc, index, content, embedding],
      );
    }
  });

  afterAll(async () => {
    await ds?.destroy();
  });

  it('relative (min-max): each list scaled to 0..1 over its candidates, then a weighted sum', async () => {
    const hits = await run({ method: 'relative', normalisation: 'minmax', k: 60, vectorWeight: 1, keywordWeight: 0.9 });
    // Vector 1, .8, .6, 0 stay as they are; keyword: b2 (three occurrences) 1, b1 0.
    expect(hits.map((h) => h.id)).toEqual(['a1', 'b2', 'b1', 'c1']);
    const score = Object.fromEntries(hits.map((h) => [h.id, h.score]));
    expect(score.a1).toBeCloseTo(1, 6);
    expect(score.b2).toBeCloseTo(0.9, 6);
    expect(score.b1).toBeCloseTo(0.8, 6);
    expect(score.c1).toBeCloseTo(0.6, 6);
    expect(hits.every((h) => h.documentScore === undefined)).toBe(true);
  });

  it('relative (distribution): mean ± 3 standard deviations of each list map to 0 and 1', async () => {
    const hits = await run({ method: 'relative', normalisation: 'distribution', k: 60, vectorWeight: 1, keywordWeight: 0 });
    const sims = [1, 0.8, 0.6, 0];
    const mean = sims.reduce((a, b) => a + b) / sims.length;
    const sd = Math.sqrt(sims.reduce((a, b) => a + (b - mean) ** 2, 0) / sims.length);
    const expected = (s: number): number => (s - (mean - 3 * sd)) / (6 * sd);
    const score = Object.fromEntries(hits.map((h) => [h.id, h.score]));
    expect(score.a1).toBeCloseTo(expected(1), 6);
    expect(score.c1).toBeCloseTo(expected(0.6), 6);
  });

  it('relative: the keyword weight rises with how far the keyword list\'s best document stands out', async () => {
    // Only document b holds "zeppelin": the keyword list is fully decisive, 0.1 + 0.8 × 1.
    const alone = await run({ method: 'relative', k: 60, vectorWeight: 1, keywordWeight: 0.1, keywordDecisiveGain: 0.8 });
    expect(alone.find((h) => h.id === 'b2')?.score).toBeCloseTo(0.9, 6);
    // "zeppelin kites": b and c both match; decisiveness is the gap between the two documents'
    // best BM25 scores relative to the first. The keyword list's top chunk scores 1 there, so
    // its fused score is its min-max vector score plus the keyword weight.
    const keyword = await run({ k: 60, vectorWeight: 1, keywordWeight: 1 }, 'zeppelin kites', 'keyword');
    const top = keyword[0];
    const second = keyword.find((h) => h.id[0] !== top.id[0])!;
    const decisive = (top.score - second.score) / top.score;
    expect(decisive).toBeGreaterThan(0);
    expect(decisive).toBeLessThan(1);
    const vectorScore: Record<string, number> = { a1: 1, b1: 0.8, c1: 0.6, b2: 0 };
    const both = await run({ method: 'relative', k: 60, vectorWeight: 1, keywordWeight: 0.1, keywordDecisiveGain: 0.8 }, 'zeppelin kites');
    expect(both.find((h) => h.id === top.id)?.score).toBeCloseTo(vectorScore[top.id] + 0.1 + 0.8 * decisive, 6);
  });

  it('by document: a document both lists find through different chunks gets both, and rows follow their document', async () => {
    const hits = await run({ method: 'relative', normalisation: 'minmax', k: 60, vectorWeight: 1, keywordWeight: 0.9, byDocument: true });
    // b: best vector chunk .8 (b1) + 0.9 × best keyword chunk 1 (b2) = 1.7, above a's 1 and c's .6.
    expect(hits.map((h) => h.id)).toEqual(['b2', 'b1', 'a1', 'c1']);
    expect(hits.map((h) => h.documentScore)).toEqual([expect.closeTo(1.7, 6), expect.closeTo(1.7, 6), expect.closeTo(1, 6), expect.closeTo(0.6, 6)]);
    // Each chunk keeps its own fused score, which orders it within its document.
    expect(hits[0].score).toBeCloseTo(0.9, 6);
    expect(hits[1].score).toBeCloseTo(0.8, 6);
  });

  it('by document keeps at most chunksPerDocument rows of each document', async () => {
    const hits = await run({ method: 'relative', k: 60, vectorWeight: 1, keywordWeight: 0.9, byDocument: true, chunksPerDocument: 1 });
    expect(hits.map((h) => h.id)).toEqual(['b2', 'a1', 'c1']);
  });

  it('rrf: Σ weight / (k + rank), per chunk or with documents ranked by their best chunk in each list', async () => {
    const chunks = await run({ method: 'rrf', k: 60, vectorWeight: 1, keywordWeight: 0.5 });
    const score = Object.fromEntries(chunks.map((h) => [h.id, h.score]));
    expect(score.a1).toBeCloseTo(1 / 61, 10);
    // b1: vector rank 2, keyword rank 2 (one occurrence against b2's three).
    expect(score.b1).toBeCloseTo(1 / 62 + 0.5 / 62, 10);
    expect(score.b2).toBeCloseTo(1 / 64 + 0.5 / 61, 10);
    const docs = await run({ method: 'rrf', k: 60, vectorWeight: 1, keywordWeight: 0.5, byDocument: true });
    // Documents by vector: a, b, c; by keyword: b. So b scores 1/62 + 0.5/61, above a's 1/61.
    expect(docs[0].id).toBe('b1');
    expect(docs[0].documentScore).toBeCloseTo(1 / 62 + 0.5 / 61, 10);
    expect(docs.find((h) => h.id === 'a1')?.documentScore).toBeCloseTo(1 / 61, 10);
  });
});
