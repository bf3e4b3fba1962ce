import { DataSource } from 'typeorm';
import { ReadDatabase } from '../src/database/read-database.module';
import { ChunkSearch, MetadataFilter, searchQuery } from '../src/vector-store/chunk-search.query';
import { Generation } from '../src/vector-store/generations/generation';
import { KeywordPlan } from '../src/vector-store/keyword-plan';
import { KeywordStatistics } from '../src/vector-store/keyword-statistics';
import { ownDatabase } from './support/own-database';
import { keywordPlanFor, searchDatabase } from './support/search-database';

/** A database of its own: the test reads the planner's statistics of the whole chunks table. */
const database = ownDatabase('ingest_test_search_plan');
const CHUNKS = 3000;
/** One chunk in RARE_EVERY holds the rare word. */
const RARE_EVERY = 100;
/** Chunks of the small namespace beside the big one, each with its own `n` in its metadata. */
const TINY = 40;

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Subplan Name'?: string;
  'CTE Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

describe('search query plans (guards against scans that grow with the namespace)', () => {
  let ds: DataSource;
  let statistics: KeywordStatistics;
  const generation = { id: 1, status: 'active' } as Generation;

  const search = (mode: ChunkSearch['mode'], query: string, embedding: number[] | null = null): ChunkSearch => ({
    mode,
    query,
    embedding,
    namespace: 'big',
    filter: {},
    limit: 10,
    candidates: 10,
    fusion: { k: 60, vectorWeight: 1, keywordWeight: 0.5 },
    efSearch: 40,
    keywordBudget: 100,
    exactVectorMaxChunks: 0,
    generation,
  });

  const planOf = (s: ChunkSearch): Promise<KeywordPlan> => keywordPlanFor(ds, statistics, s);

  /** The plan as run; `setup` statements run first in the same transaction, which is rolled back. */
  async function explain(s: ChunkSearch, keyword: KeywordPlan | null, setup: string[] = []): Promise<PlanNode[]> {
    const { sql, params } = searchQuery(s, keyword);
    const qr = ds.createQueryRunner();
    await qr.startTransaction();
    try {
      const em = qr.manager;
      for (const statement of setup) await em.query(statement);
      await em.query('SET LOCAL hnsw.iterative_scan = relaxed_order');
      const [row]: Array<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }> = await em.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sql}`, params);
      return nodes(row['QUERY PLAN'][0].Plan);
    } finally {
      await qr.rollbackTransaction();
      await qr.release();
    }
  }

  const scored = async (s: ChunkSearch, keyword: KeywordPlan | null): Promise<Array<[string, string]>> => {
    const { sql, params } = searchQuery(s, keyword);
    return (await ds.query(sql, params)).map((r: { id: string; score: number }) => [r.id, Number(r.score).toFixed(9)]);
  };

  const ids = async (s: ChunkSearch, keyword: KeywordPlan | null): Promise<string[]> => (await scored(s, keyword)).map(([id]) => id);

  /** Rows the keyword list's candidate scan produced (the `matched` CTE). */
  const candidatesRead = (plan: PlanNode[]): number => {
    const matched = plan.find((n) => n['Subplan Name'] === 'CTE matched');
    if (!matched) throw new Error('the plan has no matched CTE');
    return matched['Actual Rows'] ?? NaN;
  };

  beforeAll(async () => {
    ds = await searchDatabase(database, 'big', '00000000-0000-4000-8000-000000000001');
    // Every chunk holds the common words; one in RARE_EVERY also holds a rare one.
    await ds.query(
      `INSERT INTO chunks (id, document_id, namespace, chunk_index, content, content_sha256, char_count, metadata, model, embedding)
       SELECT gen_random_uuid(), '00000000-0000-4000-8000-000000000001', 'big', i,
              'garden compost soil water ' || i || CASE WHEN i % $2 = 0 THEN ' zeppelin' ELSE '' END,
              repeat('0', 64), 30, jsonb_build_object('n', i), 'hash:test',
              (SELECT array_agg(sin(i * 7 + d))::vector FROM generate_series(1, 384) d)
         FROM generate_series(1, $1) i`,
      [CHUNKS, RARE_EVERY],
    );
    // A small namespace beside it, with the same common words.
    await ds.query(
      `INSERT INTO chunks (id, document_id, namespace, chunk_index, content, content_sha256, char_count, metadata, model, embedding)
       SELECT gen_random_uuid(), '00000000-0000-4000-8000-000000000001', 'tiny', $1 + i,
              'garden compost soil water tiny ' || i || CASE WHEN i % 10 = 0 THEN ' zeppelin' ELSE '' END,
              repeat('0', 64), 30, jsonb_build_object('n', i), 'hash:test',
              (SELECT array_agg(cos(i * 3 + d))::vector FROM generate_series(1, 384) d)
         FROM generate_series(1, $2) i`,
      [CHUNKS, TINY],
    );
    await ds.query('ANALYZE chunks');
    statistics = new KeywordStatistics(ReadDatabase.primaryOnly(ds));
  });

  afterAll(async () => {
    await ds?.destroy();
  });

  it('scores at most the budget twice over (whole-query matches, rarest-word matches) when every word is common', async () => {
    const s = search('keyword', 'garden compost soil water');
    const keyword = await planOf(s);
    expect(keyword.candidates).not.toBeNull();
    expect(keyword.candidates?.length).toBe(1);
    const read = candidatesRead(await explain(s, keyword));
    expect(read).toBeGreaterThanOrEqual(100);
    expect(read).toBeLessThanOrEqual(200);
  });

  it('scores every chunk holding a rare word, and only those', async () => {
    const s = search('keyword', 'garden compost zeppelin');
    const keyword = await planOf(s);
    expect(keyword.candidates).toEqual(['zeppelin']);
    expect(candidatesRead(await explain(s, keyword))).toBe(CHUNKS / RARE_EVERY);
  });

  it('scores every match when the budget allows it (exact BM25)', async () => {
    const s = { ...search('keyword', 'garden compost soil water'), keywordBudget: 100_000 };
    const keyword = await planOf(s);
    expect(keyword.candidates).toBeNull();
    expect(candidatesRead(await explain(s, keyword))).toBe(CHUNKS);
  });

  it('finds the rows of a selective filter that hold neither every word nor the rarest', async () => {
    const s = { ...search('keyword', 'garden compost soil water zeppelin'), filter: { n: 7 } };
    const keyword = await planOf(s);
    expect(keyword.candidates).toEqual(['zeppelin']);
    const { sql, params } = searchQuery(s, keyword);
    const rows: Array<{ metadata: { n: number } }> = await ds.query(sql, params);
    expect(rows.map((r) => r.metadata.n)).toEqual([7]);
    // The filter's own matches come from its rows, not from the text index's postings of
    // common words: where the planner would take that index, only the other two lists do.
    const prefersTextIndex = ['DROP INDEX chunks_namespace_idx', 'DROP INDEX chunks_metadata_gin_idx', 'SET LOCAL enable_seqscan = off'];
    const textIndexScans = (await explain(s, keyword, prefersTextIndex)).filter(
      (n) => n['Index Name'] === 'chunks_content_tsv_gin_idx',
    );
    // Whole-query matches and rarest-word matches (every word of the query is the whole-query scan's: no coordination).
    expect(keyword.coordination).toBeNull();
    expect(textIndexScans.length).toBe(2);
  });

  it('scores a selective filter\'s matches alone, exactly, without the text index', async () => {
    const s = { ...search('keyword', 'garden compost soil water zeppelin'), filter: { n: { $in: [7, 100, 2500] } } };
    const keyword = await planOf(s);
    expect(keyword.candidates).toEqual(['zeppelin']);
    // Where the planner would take the text index for the other lists, they are never run.
    const prefersTextIndex = ['DROP INDEX chunks_namespace_idx', 'DROP INDEX chunks_metadata_gin_idx', 'SET LOCAL enable_seqscan = off'];
    const plan = await explain(s, keyword, prefersTextIndex);
    const textIndexScans = plan.filter((n) => n['Index Name'] === 'chunks_content_tsv_gin_idx');
    expect(textIndexScans.length).toBeGreaterThan(0);
    expect(textIndexScans.every((n) => n['Actual Loops'] === 0)).toBe(true);
    expect(candidatesRead(plan)).toBe(3);
    // Scores too: the common words' frequencies are counted among the filter's matches, as
    // exhaustive scoring counts them, not the namespace's estimates.
    const exhaustive = { ...s, keywordBudget: 100_000 };
    expect(await scored(s, keyword)).toEqual(await scored(exhaustive, await planOf(exhaustive)));
  });

  it('runs the bounded scans when the filter holds more matches than the budget', async () => {
    // 151 rows: the filter's own scan stops at the budget (100) before row 200, the only one
    // with the rare word, which the rarest-word scan finds.
    const values = [...Array.from({ length: 151 }, (_, i) => i + 1).filter((n) => n !== 100), 200];
    const s = { ...search('keyword', 'garden compost soil water zeppelin'), filter: { n: { $in: values } } };
    const { sql, params } = searchQuery(s, await planOf(s));
    const rows: Array<{ metadata: { n: number } }> = await ds.query(sql, params);
    expect(rows[0].metadata.n).toBe(200);
  });

  it('finds vector neighbours through the HNSW index, not a scan of the namespace', async () => {
    const embedding = Array.from({ length: 384 }, (_, d) => Math.sin(42 * 7 + d + 1));
    const plan = await explain(search('vector', '', embedding), null);
    expect(plan.some((n) => n['Node Type'] === 'Index Scan' && n['Index Name'] === 'chunks_embedding_hnsw_idx')).toBe(true);
    expect(plan.some((n) => n['Node Type'] === 'Seq Scan')).toBe(false);
  });

  it('ranks a small namespace exactly, without the shared HNSW graph', async () => {
    const embedding = Array.from({ length: 384 }, (_, d) => Math.sin(42 * 7 + d + 1));
    const s = { ...search('vector', '', embedding), exactVector: true };
    const plan = await explain(s, null);
    expect(plan.some((n) => n['Index Name'] === 'chunks_embedding_hnsw_idx')).toBe(false);
    const { sql, params } = searchQuery(s, null);
    const found: Array<{ id: string }> = await ds.query(sql, params);
    const brute: Array<{ id: string }> = await ds.transaction(async (em) => {
      await em.query('SET LOCAL enable_indexscan = off');
      return em.query(`SELECT id FROM chunks ORDER BY embedding <=> $1::vector, id LIMIT 10`, [JSON.stringify(embedding)]);
    });
    expect(found.map((r) => r.id)).toEqual(brute.map((r) => r.id));
  });

  describe('a namespace holding most of the table', () => {
    const usesNamespaceIndex = (plan: PlanNode[]): boolean => plan.some((n) => n['Index Name'] === 'chunks_namespace_idx');
    // Random reads made dear: the planner reads the big namespace through its index (at
    // scale, intersected with the text index's matches), every entry the namespace has.
    const prefersNamespaceIndex = ['SET LOCAL enable_seqscan = off', 'SET LOCAL random_page_cost = 100'];

    it('finds keyword matches through the text index alone, not intersected with every entry of the namespace index', async () => {
      for (const query of ['garden compost soil water', 'garden compost zeppelin']) {
        const s = search('keyword', query);
        const keyword = await planOf(s);
        expect(usesNamespaceIndex(await explain(s, keyword, prefersNamespaceIndex))).toBe(true);
        const plan = await explain({ ...s, keywordTextIndexOnly: true }, keyword, prefersNamespaceIndex);
        expect(usesNamespaceIndex(plan)).toBe(false);
        expect(plan.some((n) => n['Index Name'] === 'chunks_content_tsv_gin_idx')).toBe(true);
      }
    });

    it('finds the same chunks either way, filters included', async () => {
      const cases: Array<[string, MetadataFilter]> = [['garden compost soil water', {}], ['garden compost zeppelin', {}], ['garden compost', { n: 300 }]];
      for (const [query, filter] of cases) {
        const s = { ...search('keyword', query), filter };
        const keyword = await planOf(s);
        const found = await ids({ ...s, keywordTextIndexOnly: true }, keyword);
        expect(found.length).toBeGreaterThan(0);
        expect(found).toEqual(await ids(s, keyword));
      }
    });
  });

  describe('a small namespace beside a big one', () => {
    const tiny = (query: string, extra: Partial<ChunkSearch> = {}): ChunkSearch => ({ ...search('keyword', query), namespace: 'tiny', keywordOwnRows: true, ...extra });
    const usesTextIndex = (plan: PlanNode[]): boolean => plan.some((n) => n['Index Name'] === 'chunks_content_tsv_gin_idx');

    it('matches keywords over its own rows, never the text index whose postings hold the big one', async () => {
      for (const query of ['garden compost soil water', 'garden compost zeppelin']) {
        const s = tiny(query);
        const plan = await explain(s, await planOf(s));
        expect(usesTextIndex(plan)).toBe(false);
        expect(plan.some((n) => n['Node Type'] === 'Seq Scan')).toBe(false);
        expect(candidatesRead(plan)).toBeLessThanOrEqual(TINY);
      }
    });

    it('cannot take the text index even where the planner would prefer it', async () => {
      // Without the namespace index and with scans discouraged, a match the text index can
      // serve goes through it; the small namespace's match must not be one.
      const prefersTextIndex = ['DROP INDEX chunks_namespace_idx', 'SET LOCAL enable_seqscan = off'];
      const s = tiny('garden compost zeppelin');
      const keyword = await planOf(s);
      expect(usesTextIndex(await explain({ ...s, keywordOwnRows: false }, keyword, prefersTextIndex))).toBe(true);
      expect(usesTextIndex(await explain(s, keyword, prefersTextIndex))).toBe(false);
    });

    it('finds what the text index finds', async () => {
      for (const query of ['garden compost soil water', 'garden compost zeppelin', 'tiny zeppelin']) {
        const s = tiny(query);
        const keyword = await planOf(s);
        expect(await ids(s, keyword)).toEqual(await ids({ ...s, keywordOwnRows: false }, keyword));
      }
    });

    it('keeps the rows of a selective metadata filter', async () => {
      for (const mode of ['keyword', 'hybrid'] as const) {
        const embedding = Array.from({ length: 384 }, (_, d) => Math.cos(7 * 3 + d + 1));
        const s = tiny('garden compost soil water', { mode, embedding, filter: { n: 7 }, exactVector: true });
        const { sql, params } = searchQuery(s, await planOf(s));
        const rows: Array<{ metadata: { n: number } }> = await ds.query(sql, params);
        expect(rows.map((r) => r.metadata.n)).toEqual([7]);
      }
    });
  });
});
