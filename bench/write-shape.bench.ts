/**
 * What one chunk costs Postgres by the shape of the write alone: the same rows (a seeded
 * corpus, split and `hash`-embedded) written into the chunks table, HNSW and text indexes
 * present, by each of these shapes in turn, from this process only (no HTTP, no queue):
 *
 *   loop-20        the ceiling loop's statement: a multi-row VALUES of 20 documents' chunks
 *   service-20     the workers' statement (ChunkRepository: arrays unnested server-side,
 *                  vectors in binary), 20 documents' chunks per statement
 *   service-2      the same, 2 documents per statement (the workers' usual group)
 *   context-2      the same with each chunk's context (its document's title) indexed too
 *   transaction-2  the workers' whole group transaction: generation hold, the documents'
 *                  row locks, DELETE, INSERT, mark ready, attempts
 *   backfill-2     that transaction into a namespace in backfill mode: no HNSW maintenance
 *
 * For each it prints the CPU of the Postgres backends that did the writing (read from
 * /proc), per chunk. The table is emptied before each shape; `--rounds` repeats the list,
 * so the run-to-run noise of a shared machine shows beside the differences.
 *
 *   npm run build && node dist/bench/write-shape.bench.js [--docs 300] [--connections 1]
 *     [--rounds 2] [--shapes loop-20,service-2,...] [--db ingest_bench_write_shape]
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Client } from 'pg';
import { sha256Hex } from '../src/documents/pipeline';
import { HashEmbeddingProvider } from '../src/embedding/hash-embedding.provider';
import { SPLITTER_VERSION, splitText } from '../src/ingest/chunking/text-splitter';
import { vectorArrayParam, vectorParam } from '../src/database/vector-array-param';
import { chunkId } from '../src/vector-store/chunk-id';
import { insertChunksSql } from '../src/vector-store/chunk.repository';
import { HOLD_LOCK } from '../src/vector-store/generations/generation-lock';
import { BenchDbTarget, checkDimension, databaseUrl, ensureBenchDatabase, resetTables } from './support/bench-db';
import { intFlag } from './support/bench-main';
import { insertRows } from './support/ceiling-writer';
import { BenchDocument, generateCorpus } from './support/corpus';
import { TICKS_PER_SECOND, loadAverage } from './support/cpu-usage';

const DIMENSION = 384;
const DOC_BYTES = 10000;
const NAMESPACE = 'bench';
const SHAPES = ['loop-20', 'service-20', 'service-2', 'context-2', 'transaction-2', 'backfill-2'] as const;
type Shape = (typeof SHAPES)[number];

interface Options {
  docs: number;
  connections: number;
  rounds: number;
  shapes: Shape[];
  db: string;
}

function options(argv: string[]): Options {
  const o: Options = { docs: 300, connections: 1, rounds: 2, shapes: [...SHAPES], db: 'ingest_bench_write_shape' };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, v] = [argv[i], argv[i + 1]];
    if (flag === '--docs') o.docs = intFlag(flag, v, 20);
    else if (flag === '--connections') o.connections = intFlag(flag, v, 1);
    else if (flag === '--rounds') o.rounds = intFlag(flag, v, 1);
    else if (flag === '--db') o.db = v;
    else if (flag === '--shapes') {
      const names = (v ?? '').split(',');
      const unknown = names.filter((n) => !(SHAPES as readonly string[]).includes(n));
      if (unknown.length > 0) throw new Error(`--shapes: unknown ${unknown.join(', ')}; known: ${SHAPES.join(', ')}`);
      o.shapes = names as Shape[];
    } else throw new Error(`unknown flag ${flag}`);
  }
  return o;
}

/** A document split and embedded once, written by every shape. */
interface Prepared {
  doc: BenchDocument;
  id: string;
  pieces: Array<{ index: number; content: string; sha: string; vector: number[] }>;
}

/** User + system CPU seconds of one process. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

async function connect(url: string): Promise<{ db: Client; pid: number }> {
  const db = new Client({ connectionString: url });
  await db.connect();
  const r = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return { db, pid: r.rows[0].pid };
}

/** One group's chunk rows, as the workers' INSERT takes them. */
function serviceParams(group: Prepared[], withContext: boolean, vectorOid: number): unknown[] {
  const rows = group.flatMap((p) => p.pieces.map((c) => ({ p, c })));
  return [
    rows.map((r) => chunkId(r.p.id, r.c.index)),
    rows.map((r) => r.p.id),
    rows.map(() => NAMESPACE),
    rows.map((r) => r.c.index),
    rows.map((r) => r.c.content),
    rows.map((r) => r.c.sha),
    rows.map((r) => JSON.stringify(r.p.doc.metadata)),
    rows.map(() => 'hash'),
    vectorArrayParam(rows.map((r) => r.c.vector), vectorOid),
    rows.map((r) => (withContext ? r.p.doc.title : null)),
  ];
}

/** Writes `group`'s chunks (its documents' rows exist, `processing`) in one transaction, shaped as `shape` says. */
async function writeGroup(db: Client, shape: Shape, group: Prepared[], vectorOid: number): Promise<void> {
  const ids = group.map((p) => p.id);
  await db.query('BEGIN');
  const whole = shape === 'transaction-2' || shape === 'backfill-2';
  if (whole) {
    await db.query(`SELECT pg_advisory_xact_lock_shared(${HOLD_LOCK})`);
    await db.query(`SELECT 1 FROM embedding_generations WHERE status = 'active'`);
    await db.query(
      `SELECT d.id FROM documents d JOIN unnest($1::uuid[]) AS u(id) ON d.id = u.id WHERE d.status = 'processing' ORDER BY d.id FOR UPDATE OF d`,
      [ids],
    );
    await db.query(`DELETE FROM chunks WHERE document_id = ANY($1::uuid[])`, [ids]);
  }
  if (shape === 'loop-20') {
    const rows = group.flatMap((p) =>
      p.pieces.map((c) => [chunkId(p.id, c.index), p.id, NAMESPACE, c.index, c.content, c.sha, c.content.length, JSON.stringify(p.doc.metadata), 'hash', vectorParam(c.vector)]),
    );
    await insertRows(db, 'chunks (id, document_id, namespace, chunk_index, content, content_sha256, char_count, metadata, model, embedding)', rows);
  } else {
    await db.query(insertChunksSql('chunks'), serviceParams(group, shape !== 'service-20' && shape !== 'service-2', vectorOid));
  }
  if (whole) {
    await db.query(
      `UPDATE documents d SET status = 'ready', chunk_count = u.n, completed_at = now(), updated_at = now()
         FROM unnest($1::uuid[], $2::int[]) AS u(id, n) WHERE d.id = u.id`,
      [ids, group.map((p) => p.pieces.length)],
    );
    await db.query(
      `INSERT INTO document_attempts (document_id, version, attempt, started_at, outcome)
       SELECT u.id, 1, 1, now(), 'ready' FROM unnest($1::uuid[]) AS u(id) WHERE EXISTS (SELECT 1 FROM documents WHERE id = u.id)`,
      [ids],
    );
  }
  await db.query('COMMIT');
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  const target: BenchDbTarget = { host: '127.0.0.1', port: 5432, user: 'postgres', database: o.db };
  const env = { ...process.env, EMBEDDING_PROVIDER: 'hash', EMBEDDING_DIMENSION: String(DIMENSION) };
  await ensureBenchDatabase(target, env);
  const url = databaseUrl(target);
  const admin = new Client({ connectionString: url });
  await admin.connect();
  await checkDimension(admin, DIMENSION);
  const vectorOid = Number((await admin.query<{ oid: string }>(`SELECT 'vector'::regtype::oid AS oid`)).rows[0].oid);

  const embedder = new HashEmbeddingProvider(DIMENSION);
  const prepared: Prepared[] = [];
  for (const doc of generateCorpus(42, o.docs, DOC_BYTES)) {
    const pieces = splitText(doc.content, { size: 1000, overlap: 200 });
    const vectors = await embedder.embed(pieces.map((p) => p.content));
    prepared.push({ doc, id: '', pieces: pieces.map((p, i) => ({ index: p.index, content: p.content, sha: sha256Hex(p.content), vector: vectors[i] })) });
  }
  const chunks = prepared.reduce((n, p) => n + p.pieces.length, 0);
  console.log(
    `write shapes: ${o.docs} docs, ${chunks} chunks, ${o.connections} connection(s), ${o.rounds} round(s), splitter v${SPLITTER_VERSION}; load average ${loadAverage()}`,
  );
  console.log('round  shape           PG CPU s  ms/chunk  wall s');
  for (let round = 1; round <= o.rounds; round++) {
    for (const shape of o.shapes) {
      await resetTables(admin);
      await admin.query(
        `INSERT INTO embedding_generations (status, model, dimension, spec, activated_at) VALUES ('active', 'hash', $1, '{}'::jsonb, now())`,
        [DIMENSION],
      );
      for (const p of prepared) p.id = randomUUID();
      // The documents as the workers find them: accepted, being processed.
      await admin.query(
        `INSERT INTO documents (id, namespace, external_id, title, metadata, content_sha256, content_length, pipeline, pipeline_hash, status, attempts, started_at)
         SELECT u.id, $4, u.ext, u.title, '{}'::jsonb, repeat('0', 64), 0, '{}'::jsonb, '', 'processing', 1, now()
           FROM unnest($1::uuid[], $2::text[], $3::text[]) AS u(id, ext, title)`,
        [prepared.map((p) => p.id), prepared.map((p) => p.doc.externalId), prepared.map((p) => p.doc.title), NAMESPACE],
      );
      // Rows of a namespace being backfilled skip the shared HNSW index (see NamespaceIndexes).
      if (shape === 'backfill-2') await admin.query(`INSERT INTO namespace_indexes (namespace, state, index_name) VALUES ($1, 'loading', 'chunks_ns_hnsw_write_shape')`, [NAMESPACE]);
      await admin.query('CHECKPOINT');
      const perGroup = shape.endsWith('-20') ? 20 : 2;
      const conns = await Promise.all(Array.from({ length: o.connections }, () => connect(url)));
      const before = conns.map((c) => cpuSeconds(c.pid));
      const t0 = performance.now();
      await Promise.all(
        conns.map(async ({ db }, k) => {
          const mine = prepared.filter((_, i) => i % o.connections === k);
          for (let i = 0; i < mine.length; i += perGroup) await writeGroup(db, shape, mine.slice(i, i + perGroup), vectorOid);
        }),
      );
      const wall = (performance.now() - t0) / 1000;
      const cpu = conns.reduce((s, c, k) => s + cpuSeconds(c.pid) - before[k], 0);
      await Promise.all(conns.map((c) => c.db.end()));
      console.log(
        `${String(round).padStart(5)}  ${shape.padEnd(14)} ${cpu.toFixed(2).padStart(9)} ${((cpu * 1000) / chunks).toFixed(3).padStart(9)} ${wall.toFixed(1).padStart(7)}`,
      );
    }
  }
  await admin.end();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
