import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { toSql } from 'pgvector';
import { DataSource, EntityManager } from 'typeorm';
import { chunkId } from './chunk-id';

/** A chunk ready to store: text, position and its vector. */
export interface ChunkToWrite {
  index: number;
  content: string;
  contentSha256: string;
  metadata: Record<string, unknown>;
  embedding: number[];
}

/** Scalar equality, or membership with `{ $in: [...] }`, on a metadata key. */
export type MetadataCondition = string | number | boolean | { $in: Array<string | number | boolean> };
export type MetadataFilter = Record<string, MetadataCondition>;

export interface ChunkSearch {
  embedding: number[];
  namespace: string;
  topK: number;
  filter: MetadataFilter;
  /** HNSW candidate list size: higher finds more true neighbours, slower. */
  efSearch: number;
}

export interface ChunkHit {
  chunkId: string;
  documentId: string;
  chunkIndex: number;
  content: string;
  metadata: Record<string, unknown>;
  title: string | null;
  externalId: string | null;
  /** Cosine similarity, 1 = same direction. */
  score: number;
}

/** The pgvector `chunks` table: transactional replace of a document's chunks, and similarity search. */
@Injectable()
export class ChunkRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Replaces all chunks of a document with `chunks`, inside the caller's transaction.
   * One INSERT for all rows (arrays unnested server-side), whatever the chunk count.
   */
  async replaceChunks(
    em: EntityManager,
    documentId: string,
    namespace: string,
    model: string,
    chunks: ChunkToWrite[],
  ): Promise<void> {
    await em.query('DELETE FROM chunks WHERE document_id = $1', [documentId]);
    if (chunks.length === 0) return;
    await em.query(
      `INSERT INTO chunks (id, document_id, namespace, chunk_index, content, content_sha256, char_count, metadata, model, embedding)
       SELECT u.id, $1, $2, u.idx, u.content, u.sha, char_length(u.content), u.meta, $3, u.emb
         FROM unnest($4::uuid[], $5::int[], $6::text[], $7::text[], $8::jsonb[], $9::vector[])
              AS u(id, idx, content, sha, meta, emb)`,
      [
        documentId,
        namespace,
        model,
        chunks.map((c) => chunkId(documentId, c.index)),
        chunks.map((c) => c.index),
        chunks.map((c) => c.content),
        chunks.map((c) => c.contentSha256),
        chunks.map((c) => JSON.stringify(c.metadata)),
        chunks.map((c) => toSql(c.embedding) as string),
      ],
    );
  }

  /**
   * Nearest chunks by cosine distance. Filters are applied during the HNSW scan with
   * iterative scanning, so a selective filter still yields `topK` rows when they exist.
   */
  async search(s: ChunkSearch): Promise<ChunkHit[]> {
    const params: unknown[] = [toSql(s.embedding), s.namespace, s.topK];
    const conditions = ['c.namespace = $2', ...filterConditions(s.filter, params)];
    const sql = `
      SELECT r.id, r.document_id, r.chunk_index, r.content, r.metadata, d.title, d.external_id, 1 - r.distance AS score
        FROM (SELECT c.id, c.document_id, c.chunk_index, c.content, c.metadata, c.embedding <=> $1::vector AS distance
                FROM chunks c
               WHERE ${conditions.join(' AND ')}
               ORDER BY c.embedding <=> $1::vector
               LIMIT $3) r
        JOIN documents d ON d.id = r.document_id
       ORDER BY r.distance, r.id`;
    return this.db.transaction(async (em) => {
      // SET LOCAL takes no bind parameters; efSearch is a validated integer from config.
      await em.query(`SET LOCAL hnsw.ef_search = ${Math.trunc(s.efSearch)}`);
      await em.query(`SET LOCAL hnsw.iterative_scan = relaxed_order`);
      const rows: SearchRow[] = await em.query(sql, params);
      return rows.map((r) => ({
        chunkId: r.id,
        documentId: r.document_id,
        chunkIndex: r.chunk_index,
        content: r.content,
        metadata: r.metadata,
        title: r.title,
        externalId: r.external_id,
        score: Number(r.score),
      }));
    });
  }

  /** Dimension of the stored vector column (from the schema), or null if the table is missing. */
  async columnDimension(): Promise<number | null> {
    const rows: Array<{ dim: number }> = await this.db.query(
      `SELECT atttypmod AS dim FROM pg_attribute
        WHERE attrelid = to_regclass('chunks') AND attname = 'embedding' AND NOT attisdropped`,
    );
    return rows.length > 0 ? Number(rows[0].dim) : null;
  }

  /** The distinct models that embedded the stored chunks (normally one). */
  async storedModels(): Promise<string[]> {
    const rows: Array<{ model: string }> = await this.db.query(`SELECT DISTINCT model FROM chunks LIMIT 10`);
    return rows.map((r) => r.model);
  }
}

interface SearchRow {
  id: string;
  document_id: string;
  chunk_index: number;
  content: string;
  metadata: Record<string, unknown>;
  title: string | null;
  external_id: string | null;
  score: string | number;
}

/** SQL conditions for a metadata filter; keys and values only ever travel as parameters. */
function filterConditions(filter: MetadataFilter, params: unknown[]): string[] {
  const equal: Record<string, unknown> = {};
  const conditions: string[] = [];
  for (const [key, condition] of Object.entries(filter)) {
    if (typeof condition === 'object') {
      params.push(condition.$in.map((v) => JSON.stringify({ [key]: v })));
      conditions.push(`c.metadata @> ANY($${params.length}::jsonb[])`);
    } else {
      equal[key] = condition;
    }
  }
  if (Object.keys(equal).length > 0) {
    params.push(JSON.stringify(equal));
    conditions.push(`c.metadata @> $${params.length}::jsonb`);
  }
  return conditions;
}
