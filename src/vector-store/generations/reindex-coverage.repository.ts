import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

export interface ReindexProgress {
  /** Documents the switch waits for: every ready one, and any other that still has searchable chunks. */
  total: number;
  /** Of those, documents the new generation holds as the switch needs them. */
  done: number;
  /** Documents that could not be re-embedded (permanent error) until retried. */
  failed: number;
  /** A few of the failures, for the operator. */
  errors: Array<{ documentId: string; error: string }>;
}

// The coverage rule, written once. On `documents d` and a coverage row `r` of `reindex_documents`:
/** The building generation must hold `d` before the switch: every ready document, and any other that still has chunks searchable. */
const REQUIRED = `(d.status = 'ready' OR EXISTS (SELECT 1 FROM chunks c WHERE c.document_id = d.id))`;
/** `r` holds `d` as the switch needs it: a ready document at its current version; one not ready as it was copied. */
const COVERS = `(r.document_id = d.id AND (d.status <> 'ready' OR r.version = d.version))`;

type Db = EntityManager | DataSource;

/**
 * Which documents a building generation holds (`reindex_documents`), and which it still
 * lacks: what the re-embed coordinator enqueues, what holds up the switch, and the
 * progress `GET /v1/reindex` shows.
 */
@Injectable()
export class ReindexCoverage {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Documents the generation does not hold yet, failures excluded (they wait for a retry). */
  async uncovered(generationId: number, limit: number): Promise<Array<{ id: string; version: number; ready: boolean }>> {
    return this.db.query(
      `SELECT d.id, d.version, d.status = 'ready' AS ready FROM documents d
        WHERE ${REQUIRED} AND NOT EXISTS (SELECT 1 FROM reindex_documents r WHERE r.generation_id = $1 AND ${COVERS})
        ORDER BY d.id LIMIT $2`,
      [generationId, limit],
    );
  }

  /** True while the generation lacks a document the switch needs, or failed on one. */
  async anyMissing(em: Db, generationId: number): Promise<boolean> {
    const missing: unknown[] = await em.query(
      `SELECT 1 FROM documents d
        WHERE ${REQUIRED}
          AND NOT EXISTS (SELECT 1 FROM reindex_documents r WHERE r.generation_id = $1 AND ${COVERS} AND r.error IS NULL)
        LIMIT 1`,
      [generationId],
    );
    return missing.length > 0;
  }

  /** Inside the transaction that wrote the document's chunks into the generation. */
  async recordCovered(em: EntityManager, generationId: number, documentId: string, version: number): Promise<void> {
    await em.query(
      `INSERT INTO reindex_documents (generation_id, document_id, version) VALUES ($1, $2, $3)
       ON CONFLICT (generation_id, document_id) DO UPDATE SET version = excluded.version, error = NULL, updated_at = now()`,
      [generationId, documentId, version],
    );
  }

  /** A permanent failure of one document; it holds up the switch until retried. */
  async recordFailure(generationId: number, documentId: string, version: number, error: string): Promise<void> {
    await this.db.query(
      `INSERT INTO reindex_documents (generation_id, document_id, version, error)
       SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM embedding_generations WHERE id = $1 AND status = 'building')
       ON CONFLICT (generation_id, document_id) DO UPDATE SET version = excluded.version, error = excluded.error, updated_at = now()`,
      [generationId, documentId, version, error.slice(0, 2000)],
    );
  }

  /** Forgets the failures so the documents are tried again; returns how many. */
  async clearFailures(generationId: number): Promise<number> {
    const [, count] = (await this.db.query(`DELETE FROM reindex_documents WHERE generation_id = $1 AND error IS NOT NULL`, [
      generationId,
    ])) as [unknown, number];
    return count;
  }

  /** Drops the generation's coverage once it switched or was cancelled. */
  async forget(em: EntityManager, generationId: number): Promise<void> {
    await em.query(`DELETE FROM reindex_documents WHERE generation_id = $1`, [generationId]);
  }

  async progress(em: Db, generationId: number): Promise<ReindexProgress> {
    const [row]: Array<{ total: string; done: string; failed: string }> = await em.query(
      `SELECT count(*) AS total,
              count(*) FILTER (WHERE ${COVERS} AND r.error IS NULL) AS done,
              count(*) FILTER (WHERE ${COVERS} AND r.error IS NOT NULL) AS failed
         FROM documents d
         LEFT JOIN reindex_documents r ON r.generation_id = $1 AND r.document_id = d.id
        WHERE ${REQUIRED}`,
      [generationId],
    );
    const errors: Array<{ document_id: string; error: string }> = await em.query(
      `SELECT r.document_id, r.error FROM reindex_documents r JOIN documents d ON d.id = r.document_id
        WHERE r.generation_id = $1 AND r.error IS NOT NULL AND ${COVERS}
        ORDER BY r.updated_at DESC LIMIT 10`,
      [generationId],
    );
    return {
      total: Number(row.total),
      done: Number(row.done),
      failed: Number(row.failed),
      errors: errors.map((e) => ({ documentId: e.document_id, error: e.error })),
    };
  }
}
