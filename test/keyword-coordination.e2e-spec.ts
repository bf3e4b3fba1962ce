import { DataSource } from 'typeorm';
import { ReadDatabase } from '../src/database/read-database.module';
import { atLeastTsquery } from '../src/vector-store/at-least-tsquery';
import { ChunkSearch } from '../src/vector-store/chunk-search.query';
import { KeywordPlan } from '../src/vector-store/keyword-plan';
import { KeywordStatistics } from '../src/vector-store/keyword-statistics';
import { ownDatabase } from './support/own-database';
import { insertChunkTexts, keywordPlanFor, keywordSearch, rankedChunkIndexes, searchDatabase } from './support/search-database';

/** A database of its own: the plan reads the planner's statistics of the whole chunks table. */
const database = ownDatabase('ingest_test_keyword_coordination');
const CHUNKS = 2000;
const DOCUMENT = '00000000-0000-4000-8000-000000000001';

describe('keyword candidates that hold many of the query words', () => {
  let ds: DataSource;
  let statistics: KeywordStatistics;

  beforeAll(async () => {
    ds = await searchDatabase(database, 'mixed', DOCUMENT);
    // Four common words, each in a fifth to a third of the chunks, and no other chunk holding
    // all four; a rare one in five chunks, which hold none of them. Chunk 0 (the target)
    // holds every common word twice and not the rare one: exhaustive BM25 ranks it right
    // after the rare word's chunks.
    await insertChunkTexts(
      ds,
      DOCUMENT,
      'mixed',
      CHUNKS,
      `CASE WHEN i = 0 THEN 'garden garden compost compost soil soil water water'
            WHEN i % 400 = 1 THEN 'zeppelin filler ' || i
            ELSE concat_ws(' ', 'filler', i,
                   CASE WHEN i % 3 = 0 THEN 'garden' END, CASE WHEN i % 4 = 0 THEN 'compost' END,
                   CASE WHEN i % 5 = 0 THEN 'soil' END, CASE WHEN i % 6 = 1 THEN 'water' END) END`,
    );
    statistics = new KeywordStatistics(ReadDatabase.primaryOnly(ds));
  });

  afterAll(async () => {
    await ds?.destroy();
  });

  const search = (query: string, keywordBudget: number): ChunkSearch => keywordSearch('mixed', query, keywordBudget);
  const planFor = (s: ChunkSearch): Promise<KeywordPlan> => keywordPlanFor(ds, statistics, s);
  const ranked = (s: ChunkSearch, plan: KeywordPlan): Promise<number[]> => rankedChunkIndexes(ds, s, plan);

  it('scores a chunk holding every common word and no rare one, which rarity alone leaves out', async () => {
    const s = search('zeppelin garden compost soil water', 60);
    const plan = await planFor(s);
    expect(plan.candidates).toEqual(['zeppelin']);
    expect(plan.coordination).not.toBeNull();
    const exhaustive = await ranked({ ...s, keywordBudget: 1_000_000 }, await planFor({ ...s, keywordBudget: 1_000_000 }));
    // The five rare-word chunks rank first, then the target.
    expect(exhaustive.indexOf(0)).toBe(5);
    const bounded = await ranked(s, plan);
    expect(bounded.length).toBeGreaterThanOrEqual(6);
    expect(bounded).toEqual(exhaustive.slice(0, bounded.length));
    // Without the coordination candidates the target is never scored.
    expect(await ranked(s, { ...plan, coordination: null, commonCoordination: null })).not.toContain(0);
  });

  it('keeps the coordination candidates within the budget', async () => {
    const s = search('zeppelin garden compost soil water', 60);
    const plan = await planFor(s);
    const { lexemes, atLeast } = plan.coordination as NonNullable<KeywordPlan['coordination']>;
    const [{ n }]: Array<{ n: number }> = await ds.query(
      `SELECT count(*)::int AS n FROM chunks WHERE namespace = 'mixed' AND content_tsv @@ $1::tsquery`,
      [atLeastTsquery(lexemes, atLeast)],
    );
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThanOrEqual(60);
  });

  it('matches a text exactly when it holds at least k of the words, for every k and every subset', async () => {
    const words = ['alpha', "o'neil", 'back\\slash', 'delta', 'fs.readfil'];
    const subsets = Array.from({ length: 1 << words.length }, (_, mask) => words.filter((_, i) => mask & (1 << i)));
    for (let k = 1; k <= words.length; k++) {
      const rows: Array<{ held: number; hit: boolean }> = await ds.query(
        `SELECT cardinality(s.words) AS held, array_to_tsvector(s.words) @@ $2::tsquery AS hit
           FROM jsonb_array_elements($1::jsonb) e, LATERAL (SELECT ARRAY(SELECT jsonb_array_elements_text(e)) AS words) s`,
        [JSON.stringify(subsets), atLeastTsquery(words, k)],
      );
      expect(rows).toHaveLength(subsets.length);
      for (const r of rows) expect({ held: r.held, k, hit: r.hit }).toEqual({ held: r.held, k, hit: r.held >= k });
    }
  });
});
