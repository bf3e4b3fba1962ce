import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { PipelineConfig, pipelineHash, sha256Hex } from '../../src/documents/pipeline';
import { HashEmbeddingProvider } from '../../src/embedding/hash-embedding.provider';
import { SPLITTER_VERSION, splitText } from '../../src/ingest/chunking/text-splitter';
import { vectorParam } from '../../src/database/vector-array-param';
import { chunkId } from '../../src/vector-store/chunk-id';
import { BenchDocument } from './corpus';

export interface CeilingOptions {
  connectionString: string;
  namespace: string;
  chunkSize: number;
  chunkOverlap: number;
  /** Documents per transaction. */
  docsPerTransaction: number;
  embedder: HashEmbeddingProvider;
}

export interface CeilingResult {
  documents: number;
  chunks: number;
  /** Seconds spent splitting, embedding and serialising on the client side. */
  prepareSeconds: number;
  /** Seconds spent waiting on Postgres. */
  writeSeconds: number;
}

// Chunk rows per INSERT statement: 10 parameters each, well under Postgres' 65535.
const ROWS_PER_STATEMENT = 1000;

interface PreparedBatch {
  docRows: unknown[][];
  contentRows: unknown[][];
  chunkRows: unknown[][];
}

/**
 * The plain write path the service is measured against: one connection, a loop over
 * `docs` in batches, each batch split, embedded and written in one transaction with
 * multi-row INSERTs (documents, their contents, their chunks) into the same tables
 * and indexes the service writes.
 */
export async function writeCeiling(docs: BenchDocument[], o: CeilingOptions): Promise<CeilingResult> {
  const db = new Client({ connectionString: o.connectionString });
  await db.connect();
  const pipeline: PipelineConfig = { chunkSize: o.chunkSize, chunkOverlap: o.chunkOverlap, splitter: SPLITTER_VERSION };
  const result: CeilingResult = { documents: 0, chunks: 0, prepareSeconds: 0, writeSeconds: 0 };
  try {
    for (let i = 0; i < docs.length; i += o.docsPerTransaction) {
      let t = performance.now();
      const batch = await prepare(docs.slice(i, i + o.docsPerTransaction), pipeline, o);
      result.prepareSeconds += (performance.now() - t) / 1000;
      t = performance.now();
      await db.query('BEGIN');
      await insertRows(
        db,
        `documents (id, namespace, external_id, title, metadata, content_sha256, content_length, pipeline, pipeline_hash,
                    status, attempts, chunk_count, started_at, completed_at)`,
        batch.docRows,
        `'ready', 1, $#, now(), now()`,
      );
      await insertRows(db, 'document_contents (document_id, version, content)', batch.contentRows);
      for (let r = 0; r < batch.chunkRows.length; r += ROWS_PER_STATEMENT) {
        await insertRows(
          db,
          'chunks (id, document_id, namespace, chunk_index, content, content_sha256, char_count, metadata, model, embedding)',
          batch.chunkRows.slice(r, r + ROWS_PER_STATEMENT),
        );
      }
      await db.query('COMMIT');
      result.writeSeconds += (performance.now() - t) / 1000;
      result.documents += batch.docRows.length;
      result.chunks += batch.chunkRows.length;
    }
  } catch (err) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await db.end();
  }
  return result;
}

async function prepare(docs: BenchDocument[], pipeline: PipelineConfig, o: CeilingOptions): Promise<PreparedBatch> {
  const batch: PreparedBatch = { docRows: [], contentRows: [], chunkRows: [] };
  const hash = pipelineHash(pipeline);
  for (const doc of docs) {
    const id = randomUUID();
    const pieces = splitText(doc.content, { size: o.chunkSize, overlap: o.chunkOverlap });
    const vectors = await o.embedder.embed(pieces.map((p) => p.content));
    const metadata = JSON.stringify(doc.metadata);
    // The last value fills the `$#` placeholder of the fixed columns (chunk_count).
    batch.docRows.push([id, o.namespace, doc.externalId, doc.title, metadata, sha256Hex(doc.content), doc.content.length, JSON.stringify(pipeline), hash, pieces.length]);
    batch.contentRows.push([id, 1, doc.content]);
    pieces.forEach((p, i) => {
      batch.chunkRows.push([
        chunkId(id, p.index),
        id,
        o.namespace,
        p.index,
        p.content,
        sha256Hex(p.content),
        p.content.length,
        metadata,
        o.embedder.modelId,
        vectorParam(vectors[i]),
      ]);
    });
  }
  return batch;
}

/**
 * One multi-row `INSERT INTO target VALUES (...), (...)`. `fixedTail` appends constant
 * expressions to each row; a `$#` in it takes the row's last value.
 */
export async function insertRows(db: Client, target: string, rows: unknown[][], fixedTail?: string): Promise<void> {
  if (rows.length === 0) return;
  const params: unknown[] = [];
  const tuples = rows.map((row) => {
    const bound = fixedTail ? row.slice(0, -1) : row;
    const placeholders = bound.map((v) => {
      params.push(v);
      return `$${params.length}`;
    });
    if (fixedTail) {
      params.push(row[row.length - 1]);
      placeholders.push(fixedTail.replace('$#', `$${params.length}`));
    }
    return `(${placeholders.join(', ')})`;
  });
  await db.query(`INSERT INTO ${target} VALUES ${tuples.join(', ')}`, params);
}
