import { DataSource } from 'typeorm';
import { loadConfig } from '../../src/config/app-config';
import { createDataSource } from '../../src/database/data-source';
import { ChunkSearch, searchQuery } from '../../src/vector-store/chunk-search.query';
import { Generation } from '../../src/vector-store/generations/generation';
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

/**
 * Writes `count` chunks (indexes 0 to count - 1) of `documentId` in `namespace`, each chunk's
 * text given by `textSql`, an SQL expression of its index `i`, then analyses the table so the
 * keyword plan sees their words' frequencies.
 */
export async function insertChunkTexts(ds: DataSource, documentId: string, namespace: string, count: number, textSql: string): Promise<void> {
  await ds.query(
    `INSERT INTO chunks (id, document_id, namespace, chunk_index, content, content_sha256, char_count, model, embedding)
     SELECT gen_random_uuid(), $1, $2, i, t, repeat('0', 64), char_length(t), 'hash:test',
            (SELECT array_agg(sin(i * 7 + d))::vector FROM generate_series(1, 384) d)
       FROM generate_series(0, $3 - 1) i, LATERAL (SELECT ${textSql} AS t) text`,
    [documentId, namespace, count],
  );
  await ds.query('ANALYZE chunks');
}

/** A keyword search of `namespace` for ten chunks, as a client would ask it. */
export function keywordSearch(namespace: string, query: string, keywordBudget: number): ChunkSearch {
  return {
    mode: 'keyword',
    query,
    embedding: null,
    namespace,
    filter: {},
    limit: 10,
    candidates: 10,
    fusion: { k: 60, vectorWeight: 1, keywordWeight: 1 },
    efSearch: 40,
    keywordBudget,
    exactVectorMaxChunks: 0,
    generation: { id: 1, status: 'active' } as Generation,
  };
}

/** The chunk indexes a search returns under `plan`, best first. */
export async function rankedChunkIndexes(ds: DataSource, s: ChunkSearch, plan: KeywordPlan): Promise<number[]> {
  const { sql, params } = searchQuery(s, plan);
  return (await ds.query(sql, params)).map((r: { chunk_index: number }) => r.chunk_index);
}
