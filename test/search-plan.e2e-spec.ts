import { DataSource } from 'typeorm';
import { loadConfig } from '../src/config/app-config';
import { createDataSource } from '../src/database/data-source';
import { ReadDatabase } from '../src/database/read-database.module';
import { ChunkSearch, searchQuery } from '../src/vector-store/chunk-search.query';
import { Generation } from '../src/vector-store/generations/generation';
import { KeywordPlan, planKeywords } from '../src/vector-store/keyword-plan';
import { KeywordStatistics } from '../src/vector-store/keyword-statistics';
import { ownDatabase } from './support/own-database';

/** A database of its own: the test reads the planner's statistics of the whole chunks table. */
const database = ownDatabase('ingest_test_search_plan');
const CHUNKS = 3000;
/** One chunk in RARE_EVERY holds the rare word. */
const RARE_EVERY = 100;

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Subplan Name'?: string;
  'CTE Name'?: string;
  'Actual Rows'?: number;
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

  async function plan(s: ChunkSearch): Promise<KeywordPlan> {
    const [{ lexemes }]: Array<{ lexemes: string[] }> = await ds.query(
      `SELECT coalesce(array_agg(DISTINCT lexeme), '{}') AS lexemes FROM unnest(to_tsvector('english', $1))`,
      [s.query],
    );
    return planKeywords(lexemes, await statistics.lexemeFrequencies(), await statistics.namespaceChunks(s.namespace), s.keywordBudget);
  }

  async function explain(s: ChunkSearch, keyword: KeywordPlan | null): Promise<PlanNode[]> {
    const { sql, params } = searchQuery(s, keyword);
    return ds.transaction(async (em) => {
      await em.query('SET LOCAL hnsw.iterative_scan = relaxed_order');
      const [row]: Array<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }> = await em.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params);
      return nodes(row['QUERY PLAN'][0].Plan);
    });
  }

  /** Rows the keyword list's candidate scan produced (the `matched` CTE). */
  const candidatesRead = (plan: PlanNode[]): number => {
    const matched = plan.find((n) => n['Subplan Name'] === 'CTE matched');
    if (!matched) throw new Error('the plan has no matched CTE');
    return matched['Actual Rows'] ?? NaN;
  };

  beforeAll(async () => {
    await database.fresh();
    ds = createDataSource(loadConfig({ ...process.env, DATABASE_URL: database.url, EMBEDDING_PROVIDER: 'hash', EMBEDDING_DIMENSION: '384' }));
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
    await ds.query(`INSERT INTO embedding_generations (status, model, dimension, activated_at) VALUES ('active', 'hash:test', 384, now())`);
    await ds.query(
      `INSERT INTO documents (id, namespace, content_sha256, content_length, pipeline, pipeline_hash, status)
       VALUES ('00000000-0000-4000-8000-000000000001', 'big', repeat('0', 64), 0, '{}', repeat('0', 16), 'ready')`,
    );
    // Every chunk holds the common words; one in RARE_EVERY also holds a rare one.
    await ds.query(
      `INSERT INTO chunks (id, document_id, namespace, chunk_index, content, content_sha256, char_count, model, embedding)
       SELECT gen_random_uuid(), '00000000-0000-4000-8000-000000000001', 'big', i,
              'garden compost soil water ' || i || CASE WHEN i % $2 = 0 THEN ' zeppelin' ELSE '' END,
              repeat('0', 64), 30, 'hash:test',
              (SELECT array_agg(sin(i * 7 + d))::vector FROM generate_series(1, 384) d)
         FROM generate_series(1, $1) i`,
      [CHUNKS, RARE_EVERY],
    );
    await ds.query('ANALYZE chunks');
    statistics = new KeywordStatistics(ReadDatabase.primaryOnly(ds));
  });

  afterAll(async () => {
    await ds?.destroy();
  });

  it('scores at most the budget twice over (whole-query matches, rarest-word matches) when every word is common', async () => {
    const s = search('keyword', 'garden compost soil water');
    const keyword = await plan(s);
    expect(keyword.candidates).not.toBeNull();
    expect(keyword.candidates?.length).toBe(1);
    const read = candidatesRead(await explain(s, keyword));
    expect(read).toBeGreaterThanOrEqual(100);
    expect(read).toBeLessThanOrEqual(200);
  });

  it('scores every chunk holding a rare word, and only those', async () => {
    const s = search('keyword', 'garden compost zeppelin');
    const keyword = await plan(s);
    expect(keyword.candidates).toEqual(['zeppelin']);
    expect(candidatesRead(await explain(s, keyword))).toBe(CHUNKS / RARE_EVERY);
  });

  it('scores every match when the budget allows it (exact BM25)', async () => {
    const s = { ...search('keyword', 'garden compost soil water'), keywordBudget: 100_000 };
    const keyword = await plan(s);
    expect(keyword.candidates).toBeNull();
    expect(candidatesRead(await explain(s, keyword))).toBe(CHUNKS);
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
});
