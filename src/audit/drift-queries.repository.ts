import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { IS_DEAD_LETTER } from '../documents/document-state.sql';
import { DriftFinding, ScanCursor, ScanWindow } from './drift';

/** The scope of one check: every namespace (null) or one, and how much it may examine. */
export interface DriftScope {
  namespace: string | null;
  /** Rows examined per window. */
  scanRows: number;
  /** Findings returned at most. */
  limit: number;
}

/** A failed document that should have a dead letter. */
export interface FailedDocument {
  id: string;
  namespace: string;
  version: number;
  attempts: number;
  lastError: string | null;
  lastErrorClass: string | null;
  failedStage: string | null;
  updatedAt: Date;
}

interface WindowRow {
  last: string | null;
  scanned: number;
  found: Array<Record<string, unknown>>;
}

/**
 * The read side of the drift audit: every query is bounded (a window of rows in primary-key
 * order, or a LIMIT over an index), so a pass costs the same on a table of any size.
 */
@Injectable()
export class DriftQueries {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** The active generation's model and dimension: what every row of `chunks` must carry. Null before the first. */
  async activeModel(): Promise<{ model: string; dimension: number } | null> {
    const rows: Array<{ model: string; dimension: number }> = await this.db.query(
      `SELECT model, dimension FROM embedding_generations WHERE status = 'active'`,
    );
    return rows[0] ?? null;
  }

  /** Ready documents of one window whose chunk rows differ in number from `chunk_count`. */
  async chunkCountMismatches(after: ScanCursor, scope: DriftScope): Promise<ScanWindow> {
    const [row]: WindowRow[] = await this.db.query(
      `WITH win AS (
         SELECT id, namespace, version, chunk_count FROM documents
          WHERE status = 'ready' AND id > $1 AND ($3::text IS NULL OR namespace = $3)
          ORDER BY id LIMIT $2
       ), counted AS (
         SELECT w.*, (SELECT count(*) FROM chunks c WHERE c.document_id = w.id)::int AS actual FROM win w
       )
       SELECT (SELECT id FROM win ORDER BY id DESC LIMIT 1) AS last, (SELECT count(*) FROM win)::int AS scanned,
              COALESCE((SELECT json_agg(json_build_object('id', id, 'namespace', namespace, 'version', version,
                                                          'expected', chunk_count, 'actual', actual))
                          FROM (SELECT * FROM counted WHERE actual IS DISTINCT FROM chunk_count LIMIT $4) x), '[]') AS found`,
      [after, scope.scanRows, scope.namespace, scope.limit],
    );
    return toWindow(row, scope.scanRows, (f) => ({
      kind: 'chunk_count_mismatch',
      namespace: f.namespace as string,
      documentId: f.id as string,
      count: 1,
      detail: { version: f.version, expected: f.expected, actual: f.actual },
    }));
  }

  /**
   * One window of `chunks`: per document, the chunks whose document is gone (orphans) and
   * those of another model or dimension than the active generation's.
   */
  async chunkScan(after: ScanCursor, scope: DriftScope, active: { model: string; dimension: number }): Promise<ScanWindow> {
    const [row]: WindowRow[] = await this.db.query(
      `WITH win AS (
         SELECT id, document_id, namespace, model, vector_dims(embedding) AS dims FROM chunks
          WHERE id > $1 AND ($3::text IS NULL OR namespace = $3)
          ORDER BY id LIMIT $2
       ), flagged AS (
         SELECT w.*, NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = w.document_id) AS orphan FROM win w
       )
       SELECT (SELECT id FROM win ORDER BY id DESC LIMIT 1) AS last, (SELECT count(*) FROM win)::int AS scanned,
              COALESCE((SELECT json_agg(g) FROM (
                SELECT document_id AS "documentId", min(namespace) AS namespace, bool_or(orphan) AS orphan, count(*)::int AS count,
                       array_agg(DISTINCT model || '/' || dims) AS models
                  FROM flagged WHERE orphan OR model <> $4 OR dims <> $5
                 GROUP BY document_id LIMIT $6) g), '[]') AS found`,
      [after, scope.scanRows, scope.namespace, active.model, active.dimension, scope.limit],
    );
    return toWindow(row, scope.scanRows, (f) => ({
      kind: f.orphan ? 'orphan_chunks' : 'foreign_model_chunks',
      namespace: f.namespace as string,
      documentId: f.documentId as string,
      count: f.count as number,
      detail: f.orphan ? {} : { models: f.models, expected: `${active.model}/${active.dimension}` },
    }));
  }

  /** Dead letters (failed, not discarded) in id order after `after`. */
  async failedDocuments(after: ScanCursor, scope: DriftScope): Promise<FailedDocument[]> {
    return this.db.query(
      `SELECT id, namespace, version, attempts, last_error AS "lastError", last_error_class AS "lastErrorClass",
              failed_stage AS "failedStage", updated_at AS "updatedAt"
         FROM documents WHERE ${IS_DEAD_LETTER} AND id > $1 AND ($2::text IS NULL OR namespace = $2)
        ORDER BY id LIMIT $3`,
      [after, scope.namespace, scope.limit],
    );
  }

  /** Entries of one model and dimension in the embedding cache, counted up to `limit`. */
  async cacheEntries(model: string, dimension: number, limit: number): Promise<number> {
    const [row]: Array<{ n: number }> = await this.db.query(
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM embedding_cache WHERE model = $1 AND dimension = $2 LIMIT $3) x`,
      [model, dimension, limit],
    );
    return row.n;
  }

  /**
   * Models and dimensions in the embedding cache that no live generation (active or being
   * built) uses, with a skip scan over the cache's primary key: one index probe per model.
   */
  async staleCacheModels(): Promise<Array<{ model: string; dimension: number }>> {
    return this.db.query(
      `WITH RECURSIVE m AS (
         (SELECT model, dimension FROM embedding_cache ORDER BY model, dimension LIMIT 1)
         UNION ALL
         SELECT n.model, n.dimension FROM m, LATERAL (
           SELECT c.model, c.dimension FROM embedding_cache c WHERE (c.model, c.dimension) > (m.model, m.dimension)
            ORDER BY c.model, c.dimension LIMIT 1) n
       )
       SELECT model, dimension FROM m
        WHERE NOT EXISTS (SELECT 1 FROM embedding_generations g
                           WHERE g.status IN ('active', 'building') AND g.model = m.model AND g.dimension = m.dimension)`,
    );
  }
}

function toWindow(row: WindowRow, scanRows: number, toFinding: (f: Record<string, unknown>) => DriftFinding): ScanWindow {
  return {
    findings: row.found.map(toFinding),
    scanned: row.scanned,
    // A short window reached the end of the table.
    next: row.scanned < scanRows || row.last === null ? null : row.last,
  };
}
