/**
 * What the text index's pending list costs searches, and what flushing it sooner costs
 * writes. A GIN index with `fastupdate` queues new entries in a pending list that every
 * search reads in full until a vacuum (or the list passing `gin_pending_list_limit`) merges
 * it into the index. A service that ingests all day keeps that list partly full.
 *
 * The text vector's storage is compared too: stored out of line (TOAST), each candidate the
 * keyword list scores costs a few more page reads.
 *
 * For each setting of the chunk indexes (text and metadata GIN), in the bench's own database:
 * a large namespace and a small one are loaded and indexed (the HNSW index too), the pending
 * lists emptied; then chunks are written into the large namespace in transactions of
 * `--batch` rows, as the workers' grouped writes do, and after each transaction the small
 * namespace is searched by keywords (the service's own search SQL, queries of 4–8 common
 * words). It prints rows written per second and search latency per setting, as ratios against
 * the first setting (Postgres's defaults), measured in the same run.
 *
 *   npm run build && node dist/bench/keyword-index.bench.js [--large 30000] [--small 4000]
 *     [--write 20000] [--batch 320] [--db ingest_bench_keyword_index]
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { toSql } from 'pgvector';
import { HashEmbeddingProvider } from '../src/embedding/hash-embedding.provider';
import { splitText } from '../src/ingest/chunking/text-splitter';
import { searchQuery } from '../src/vector-store/chunk-search.query';
import type { Generation } from '../src/vector-store/generations/generation';
import { BenchDbTarget, checkDimension, databaseUrl, ensureBenchDatabase, resetTables } from './support/bench-db';
import { intFlag } from './support/bench-main';
import { commonWordQueries, generateCorpus } from './support/corpus';
import { percentile } from './support/search-load';

const DIMENSION = 384;
const DOC_BYTES = 5000;
const LARGE = 'large';
const SMALL = 'small';

/** Index and column storage settings compared; the first is the baseline (Postgres's defaults). */
const SETTINGS: Array<{ name: string; with: string; tsvStorage: 'EXTENDED' | 'MAIN' }> = [
  { name: 'fastupdate on, 4MB list, text vector out of line (Postgres defaults)', with: 'fastupdate = on, gin_pending_list_limit = 4096', tsvStorage: 'EXTENDED' },
  { name: 'fastupdate on, 1MB list', with: 'fastupdate = on, gin_pending_list_limit = 1024', tsvStorage: 'EXTENDED' },
  { name: 'fastupdate off', with: 'fastupdate = off', tsvStorage: 'EXTENDED' },
  { name: 'fastupdate on, 1MB list, text vector in the row', with: 'fastupdate = on, gin_pending_list_limit = 1024', tsvStorage: 'MAIN' },
];

interface Options {
  large: number;
  small: number;
  write: number;
  batch: number;
  db: string;
}

function options(argv: string[]): Options {
  const o: Options = { large: 30_000, small: 4_000, write: 20_000, batch: 320, db: 'ingest_bench_keyword_index' };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, v] = [argv[i], argv[i + 1]];
    if (flag === '--large') o.large = intFlag(flag, v, 1000);
    else if (flag === '--small') o.small = intFlag(flag, v, 100);
    else if (flag === '--write') o.write = intFlag(flag, v, 1000);
    else if (flag === '--batch') o.batch = intFlag(flag, v, 1);
    else if (flag === '--db') o.db = String(v);
    else throw new Error(`unknown option ${flag}`);
  }
  return o;
}

interface Row {
  id: string;
  documentId: string;
  namespace: string;
  index: number;
  content: string;
}

/** `count` chunks of ~1000 characters from generated documents, seeded so every setting writes the same text. */
function chunkRows(namespace: string, seed: number, count: number): Row[] {
  const rows: Row[] = [];
  for (let d = 0; rows.length < count; d += 200) {
    for (const doc of generateCorpus(seed + d, 200, DOC_BYTES)) {
      const documentId = randomUUID();
      splitText(doc.content, { size: 1000, overlap: 100 }).forEach((c, index) => {
        if (rows.length < count) rows.push({ id: randomUUID(), documentId, namespace, index, content: c.content });
      });
    }
  }
  return rows;
}

const embedder = new HashEmbeddingProvider(DIMENSION);

/** One multi-row INSERT of documents and chunks, as a grouped write commits them. */
async function insertRows(db: Client, rows: Row[]): Promise<void> {
  const docs = [...new Map(rows.map((r) => [r.documentId, r.namespace])).entries()];
  const vectors = await embedder.embed(rows.map((r) => r.content));
  await db.query(
    `INSERT INTO documents (id, namespace, content_sha256, content_length, pipeline, pipeline_hash, status)
     SELECT id, ns, repeat('0', 64), 0, '{}', repeat('0', 16), 'ready' FROM unnest($1::uuid[], $2::text[]) AS t(id, ns)
     ON CONFLICT (id) DO NOTHING`,
    [docs.map(([id]) => id), docs.map(([, ns]) => ns)],
  );
  await db.query(
    `INSERT INTO chunks (id, document_id, namespace, chunk_index, content, content_sha256, char_count, model, embedding)
     SELECT id, doc, ns, idx, content, repeat('0', 64), length(content), 'hash', emb::vector
       FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::int[], $5::text[], $6::text[]) AS t(id, doc, ns, idx, content, emb)`,
    [rows.map((r) => r.id), rows.map((r) => r.documentId), rows.map((r) => r.namespace), rows.map((r) => r.index), rows.map((r) => r.content), vectors.map((v) => toSql(v))],
  );
}

interface Result {
  name: string;
  rowsPerSecond: number;
  p50: number;
  p95: number;
  mean: number;
  pendingPages: number;
}

async function measure(db: Client, o: Options, setting: (typeof SETTINGS)[number], hnswDef: string, load: Row[], written: Row[], qs: string[]): Promise<Result> {
  await resetTables(db);
  const ginIndexes = ['chunks_content_tsv_gin_idx', 'chunks_metadata_gin_idx'];
  for (const index of ginIndexes) await db.query(`ALTER INDEX ${index} SET (${setting.with})`);
  await db.query(`ALTER TABLE chunks ALTER COLUMN content_tsv SET STORAGE ${setting.tsvStorage}`);
  await db.query(`SET maintenance_work_mem = '1GB'`);
  await db.query(`DROP INDEX IF EXISTS chunks_embedding_hnsw_idx`);
  for (let i = 0; i < load.length; i += 1000) await insertRows(db, load.slice(i, i + 1000));
  await db.query(hnswDef);
  for (const index of ginIndexes) await db.query(`SELECT gin_clean_pending_list('${index}')`);
  await db.query(`VACUUM ANALYZE chunks`);
  await db.query(`VACUUM ANALYZE documents`);
  const total = Number((await db.query(`SELECT count(*) AS n FROM chunks WHERE namespace = $1`, [SMALL])).rows[0].n);
  const times: number[] = [];
  let writeMs = 0;
  let pending = 0;
  let q = 0;
  for (let i = 0; i < written.length; i += o.batch) {
    const t0 = process.hrtime.bigint();
    await db.query('BEGIN');
    await insertRows(db, written.slice(i, i + o.batch));
    await db.query('COMMIT');
    writeMs += Number(process.hrtime.bigint() - t0) / 1e6;
    pending += Number((await db.query(`SELECT pending_pages AS p FROM pgstatginindex('chunks_content_tsv_gin_idx')`)).rows[0].p);
    for (let k = 0; k < 3; k++) {
      const { sql, params } = searchQuery(
        {
          mode: 'keyword', query: qs[q++ % qs.length], embedding: null, namespace: SMALL, filter: {}, limit: 10, candidates: 50,
          fusion: { k: 60, vectorWeight: 1, keywordWeight: 1 }, efSearch: 100, keywordBudget: 1000, exactVectorMaxChunks: 20000,
          generation: {} as Generation,
        },
        { total, candidates: null, limit: 1000, estimatedDf: [], coordination: null, commonCoordination: null },
      );
      const s0 = process.hrtime.bigint();
      await db.query(sql, params);
      times.push(Number(process.hrtime.bigint() - s0) / 1e6);
    }
  }
  times.sort((a, b) => a - b);
  const batches = Math.ceil(written.length / o.batch);
  return {
    name: setting.name,
    rowsPerSecond: written.length / (writeMs / 1000),
    p50: percentile(times, 50),
    p95: percentile(times, 95),
    mean: times.reduce((a, b) => a + b, 0) / times.length,
    pendingPages: pending / batches,
  };
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  const target: BenchDbTarget = { host: process.env.PGHOST ?? '127.0.0.1', port: Number(process.env.PGPORT ?? 5432), user: process.env.PGUSER ?? 'postgres', database: o.db };
  await ensureBenchDatabase(target, { ...process.env, EMBEDDING_PROVIDER: 'hash', EMBEDDING_DIMENSION: String(DIMENSION) });
  const db = new Client({ connectionString: databaseUrl(target) });
  await db.connect();
  try {
    await db.query('CREATE EXTENSION IF NOT EXISTS pgstattuple');
    await checkDimension(db, DIMENSION);
    // Read once: a run stopped between dropping and rebuilding it leaves it missing.
    const [hnsw] = (await db.query<{ def: string }>(`SELECT indexdef AS def FROM pg_indexes WHERE indexname = 'chunks_embedding_hnsw_idx'`)).rows;
    if (!hnsw) throw new Error(`chunks_embedding_hnsw_idx is missing in ${o.db}: drop the database and rerun`);
    const load = [...chunkRows(LARGE, 1, o.large), ...chunkRows(SMALL, 500_000, o.small)];
    const written = chunkRows(LARGE, 1_000_000, o.write);
    const qs = commonWordQueries(200, 11, DOC_BYTES);
    console.log(`large namespace ${o.large} chunks, small ${o.small}; ${o.write} chunks written in transactions of ${o.batch}, 3 keyword searches of the small namespace after each\n`);
    const results: Result[] = [];
    for (const s of SETTINGS) {
      results.push(await measure(db, o, s, hnsw.def, load, written, qs));
      const r = results[results.length - 1];
      console.log(`  ${r.name}: ${r.rowsPerSecond.toFixed(0)} rows/s, search p50 ${r.p50.toFixed(1)} ms`);
    }
    const base = results[0];
    console.log(`\n| setting | rows written/s (ratio) | keyword search p50 / p95 / mean ms (mean ratio) | pending list pages, mean |`);
    console.log(`| --- | --- | --- | --- |`);
    for (const r of results) {
      console.log(`| ${r.name} | ${r.rowsPerSecond.toFixed(0)} (${(r.rowsPerSecond / base.rowsPerSecond).toFixed(2)}×) | ${r.p50.toFixed(1)} / ${r.p95.toFixed(1)} / ${r.mean.toFixed(1)} (${(r.mean / base.mean).toFixed(2)}×) | ${r.pendingPages.toFixed(0)} |`);
    }
  } finally {
    await db.end();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
