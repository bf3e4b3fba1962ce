import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { queueNextVersion } from '../documents/document-state.sql';

/**
 * The write side of the drift audit. Each repair re-checks its condition in the statement
 * that acts, so a document that moved on since it was found is left alone.
 */
@Injectable()
export class DriftRepairs {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Moves a ready document still at `version` to its next version, queued. Null if it moved on. */
  async requeueReady(id: string, version: number): Promise<{ id: string; version: number } | null> {
    const moved = await this.db.transaction((em) =>
      queueNextVersion(em, { where: `id = $1 AND version = $2 AND status = 'ready'`, params: [id, version] }),
    );
    return moved[0] ?? null;
  }

  /** Deletes the chunks of a document that no longer exists; returns how many went. */
  async deleteOrphanChunks(documentId: string): Promise<number> {
    const [, count]: [unknown, number] = await this.db.query(
      `DELETE FROM chunks c WHERE c.document_id = $1 AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = c.document_id)`,
      [documentId],
    );
    return count;
  }

  /** Deletes a document's chunks made by another model or dimension than `active`. */
  async deleteForeignChunks(documentId: string, active: { model: string; dimension: number }): Promise<number> {
    const [, count]: [unknown, number] = await this.db.query(
      `DELETE FROM chunks WHERE document_id = $1 AND (model <> $2 OR vector_dims(embedding) <> $3)`,
      [documentId, active.model, active.dimension],
    );
    return count;
  }

  /** The document's status and version now, or null if it is gone. */
  async documentState(id: string): Promise<{ status: string; version: number } | null> {
    const rows: Array<{ status: string; version: number }> = await this.db.query(`SELECT status, version FROM documents WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  /** Deletes up to `limit` cache entries of a model no generation uses; returns how many went. */
  async deleteCacheEntries(model: string, dimension: number, limit: number): Promise<number> {
    const [, count]: [unknown, number] = await this.db.query(
      `DELETE FROM embedding_cache WHERE ctid IN (
         SELECT ctid FROM embedding_cache WHERE model = $1 AND dimension = $2 LIMIT $3)
         AND NOT EXISTS (SELECT 1 FROM embedding_generations g
                          WHERE g.status IN ('active', 'building') AND g.model = $1 AND g.dimension = $2)`,
      [model, dimension, limit],
    );
    return count;
  }
}
