import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ACTIVE_CHUNKS } from './generations/generation';

/** A stored chunk as a caller reads it back. */
export interface StoredChunkView {
  id: string;
  index: number;
  content: string;
  context: string | null;
  metadata: Record<string, unknown>;
  model: string;
  vector?: number[];
}

export interface ChunkPageRequest {
  documentId: string;
  /** Chunks after this index (exclusive); -1 for the first page. */
  afterIndex: number;
  limit: number;
  includeVectors: boolean;
}

/** Reads a document's searchable chunks (the active generation's), in chunk order, a page at a time. */
@Injectable()
export class ChunkPageRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Up to `limit` chunks, and whether more follow. */
  async page(q: ChunkPageRequest): Promise<{ chunks: StoredChunkView[]; more: boolean }> {
    // real[] arrives as numbers; the vector's text form would need parsing.
    const vector = q.includeVectors ? ', embedding::real[] AS vector' : '';
    const rows: Array<{ id: string; chunk_index: number; content: string; context: string | null; metadata: Record<string, unknown>; model: string; vector?: number[] }> =
      await this.db.query(
        `SELECT id, chunk_index, content, context, metadata, model${vector}
           FROM ${ACTIVE_CHUNKS}
          WHERE document_id = $1 AND chunk_index > $2
          ORDER BY chunk_index
          LIMIT $3`,
        [q.documentId, q.afterIndex, q.limit + 1],
      );
    const chunks = rows.slice(0, q.limit).map((r) => ({
      id: r.id,
      index: r.chunk_index,
      content: r.content,
      context: r.context,
      metadata: r.metadata,
      model: r.model,
      ...(q.includeVectors ? { vector: r.vector ?? [] } : {}),
    }));
    return { chunks, more: rows.length > q.limit };
  }
}
