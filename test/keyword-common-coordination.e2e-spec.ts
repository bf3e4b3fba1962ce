import { DataSource } from 'typeorm';
import { ReadDatabase } from '../src/database/read-database.module';
import { atLeastTsquery } from '../src/vector-store/at-least-tsquery';
import { ChunkSearch } from '../src/vector-store/chunk-search.query';
import { KeywordPlan } from '../src/vector-store/keyword-plan';
import { KeywordStatistics } from '../src/vector-store/keyword-statistics';
import { ownDatabase } from './support/own-database';
import { insertChunkTexts, keywordPlanFor, keywordSearch, rankedChunkIndexes, searchDatabase } from './support/search-database';

/** A database of its own: the plan reads the planner's statistics of the whole chunks table. */
const database = ownDatabase('ingest_test_keyword_common_coordination');
const CHUNKS = 2000;
const DOCUMENT = '00000000-0000-4000-8000-000000000002';
const QUERY = 'zeppelin airship dirigible garden compost soil water seed harvest';

describe('keyword candidates that hold many of the common query words', () => {
  let ds: DataSource;
  let statistics: KeywordStatistics;

  beforeAll(async () => {
    ds = await searchDatabase(database, 'farm', DOCUMENT);
    // Three rare words, two chunks each, and six common ones, each in a tenth to a third of
    // the chunks. Chunk 0 (the target) holds the five most common twice and neither rare
    // word: exhaustive BM25 ranks it high, but of the six rarest words (the three rare ones,
    // garden, compost, soil) it holds only two.
    await insertChunkTexts(
      ds,
      DOCUMENT,
      'farm',
      CHUNKS,
      `CASE WHEN i = 0 THEN 'compost compost soil soil water water seed seed harvest harvest'
            WHEN i % 1000 = 1 THEN 'zeppelin filler ' || i
            WHEN i % 1000 = 2 THEN 'airship filler ' || i
            WHEN i % 1000 = 3 THEN 'dirigible filler ' || i
            ELSE concat_ws(' ', 'filler', i,
                   CASE WHEN i % 10 = 0 THEN 'garden' END, CASE WHEN i % 8 = 5 THEN 'compost' END,
                   CASE WHEN i % 7 = 4 THEN 'soil' END, CASE WHEN i % 5 = 4 THEN 'water' END,
                   CASE WHEN i % 4 = 2 THEN 'seed' END, CASE WHEN i % 3 = 1 THEN 'harvest' END) END`,
    );
    statistics = new KeywordStatistics(ReadDatabase.primaryOnly(ds));
  });

  afterAll(async () => {
    await ds?.destroy();
  });

  const search = (keywordBudget: number): ChunkSearch => keywordSearch('farm', QUERY, keywordBudget);
  const planFor = (s: ChunkSearch): Promise<KeywordPlan> => keywordPlanFor(ds, statistics, s);
  const ranked = (s: ChunkSearch, plan: KeywordPlan): Promise<number[]> => rankedChunkIndexes(ds, s, plan);

  it('scores a chunk holding many common words and too few of the rarest, as exhaustive BM25 ranks it', async () => {
    const s = search(60);
    const plan = await planFor(s);
    expect(plan.candidates).toEqual(['airship', 'dirig', 'zeppelin']);
    expect(plan.coordination?.lexemes).toEqual(['airship', 'dirig', 'zeppelin', 'garden', 'compost', 'soil']);
    expect(plan.commonCoordination?.lexemes).toEqual(['garden', 'compost', 'soil', 'water', 'seed', 'harvest']);
    const exhaustive = await ranked({ ...s, keywordBudget: 1_000_000 }, await planFor({ ...s, keywordBudget: 1_000_000 }));
    expect(exhaustive.slice(0, 10)).toContain(0);
    const bounded = await ranked(s, plan);
    // Ranked among the first ten, as exhaustive BM25 ranks it (its scores differ: the
    // frequencies of the words scanned are counted among the candidates).
    expect(bounded.slice(0, 10)).toContain(0);
    // The rarest words' coordination alone does not reach it.
    expect(await ranked(s, { ...plan, commonCoordination: null })).not.toContain(0);
  });

  it('keeps the common words\' coordination candidates within their share of the budget', async () => {
    const plan = await planFor(search(60));
    const { lexemes, atLeast, limit } = plan.commonCoordination as NonNullable<KeywordPlan['commonCoordination']>;
    expect(limit).toBe(30);
    const [{ n }]: Array<{ n: number }> = await ds.query(
      `SELECT count(*)::int AS n FROM chunks WHERE namespace = 'farm' AND content_tsv @@ $1::tsquery`,
      [atLeastTsquery(lexemes, atLeast)],
    );
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThanOrEqual(limit);
  });
});
