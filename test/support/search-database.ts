import { DataSource } from 'typeorm';
import { loadConfig } from '../../src/config/app-config';
import { createDataSource } from '../../src/database/data-source';
import { ChunkSearch } from '../../src/vector-store/chunk-search.query';
import { KeywordPlan, matchOwnRows, planKeywords, textIndexChunks } from '../../src/vector-store/keyword-plan';
import { KeywordStatistics } from '../../src/vector-store/keyword-statistics';
import { OwnDatabase } from './own-database';

/**
 * A suite's own database, migrated, with an active `hash:test` generation of 384 dimensions
 * and one ready document in `namespace` to hang chunks on: for suites that write the chunks
 * table directly and read the planner's statistics of it.
 */
export async function searchDatabase(database: OwnDatabase, namespace: string, documentId: string): Promise<DataSource> {
  await database.fresh();
  const ds = createDataSource(loadConfig({ ...process.env, DATABASE_URL: database.url, EMBEDDING_PROVIDER: 'hash', EMBEDDING_DIMENSION: '384' }));
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  await ds.query(`INSERT INTO embedding_generations (status, model, dimension, activated_at) VALUES ('active', 'hash:test', 384, now())`);
  await ds.query(
    `INSERT INTO documents (id, namespace, content_sha256, content_length, pipeline, pipeline_hash, status)
     VALUES ($1, $2, repeat('0', 64), 0, '{}', repeat('0', 16), 'ready')`,
    [documentId, namespace],
  );
  return ds;
}

/** The keyword plan the repository would make for a search: its query's lexemes against the statistics. */
export async function keywordPlanFor(ds: DataSource, statistics: KeywordStatistics, s: ChunkSearch): Promise<KeywordPlan> {
  const [{ lexemes }]: Array<{ lexemes: string[] }> = await ds.query(
    `SELECT coalesce(array_agg(DISTINCT lexeme), '{}') AS lexemes FROM unnest(to_tsvector('english', $1))`,
    [s.query],
  );
  const [frequencies, chunks, tableChunks] = await Promise.all([statistics.lexemeFrequencies(), statistics.namespaceChunks(s.namespace), statistics.tableChunks()]);
  const ownRows = s.keywordOwnRows ?? matchOwnRows(chunks, tableChunks, s.exactVectorMaxChunks);
  return planKeywords(lexemes, frequencies, chunks, s.keywordBudget, textIndexChunks(chunks, tableChunks, ownRows));
}
