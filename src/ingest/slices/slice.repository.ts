import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { EmbeddingUsageRecord } from '../../documents/documents.repository';
import { chunkId } from '../../vector-store/chunk-id';
import { ChunkTable } from '../../vector-store/generations/generation';
import { ChunkDraft } from '../chunking/chunk-drafts';
import { SliceRange, planSlices } from './slice-plan';
import { VectorTypeOid } from '../../database/vector-array-param';

/** Rows per statement when staging and publishing: each statement's parameters stay small whatever the document's size. */
const STAGE_BATCH_ROWS = 500;
const PUBLISH_BATCH_ROWS = 1000;

/** One fan-out of a document version, as Postgres records it. */
export interface SliceRun {
  documentId: string;
  version: number;
  /** Numbers the fan-outs of this version (a lost flow is re-created under the next). */
  run: number;
  namespace: string;
  /** The document's attempt that split it, recorded with the ready attempt. */
  attempt: number;
  chunksTotal: number;
  chunksEmbedded: number;
  slicesTotal: number;
}

/** A staged chunk as a slice job embeds it. */
export interface StagedChunk {
  index: number;
  context: string | null;
  content: string;
}

/** A slice's staged chunks; `embedded` when a job already stored their vectors. */
export interface StagedSlice extends SliceRange {
  embedded: boolean;
  chunks: StagedChunk[];
}

/** What embedding one slice cost. */
export type SliceUsage = EmbeddingUsageRecord;

interface RunRow {
  document_id: string;
  version: number;
  run: number;
  namespace: string;
  attempt: number;
  chunks_total: number;
  chunks_embedded: number;
  slices_total: number;
}

const toRun = (r: RunRow): SliceRun => ({
  documentId: r.document_id,
  version: r.version,
  run: r.run,
  namespace: r.namespace,
  attempt: r.attempt,
  chunksTotal: r.chunks_total,
  chunksEmbedded: r.chunks_embedded,
  slicesTotal: r.slices_total,
});

const RUN_COLUMNS = 'r.document_id, r.version, r.run, r.namespace, r.attempt, r.chunks_total, r.chunks_embedded, r.slices_total';
// A run is live while its document is still processing that version.
const LIVE_RUN = `JOIN documents d ON d.id = r.document_id AND d.version = r.version AND d.status = 'processing'`;

/** Rows an UPDATE … RETURNING gave back (TypeORM answers an UPDATE with [rows, count], not the rows). */
async function updated<T>(em: EntityManager | DataSource, sql: string, params: unknown[]): Promise<T[]> {
  const [rows]: [T[], number] = await em.query(sql, params);
  return rows;
}

/**
 * Where a large document waits between its split and its publication: the chunks staged
 * with their text (`staged_chunks`), the slices and which are embedded, the run's
 * progress. Search never reads these tables; `publish` moves a complete run into a chunk
 * table in the caller's transaction.
 */
@Injectable()
export class SliceRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Vectors go to Postgres in binary (see vectorArrayParam). */
  private readonly vectorType = new VectorTypeOid();

  /**
   * Stages `drafts` as a new run of the document's `version` in slices of `chunksPerSlice`,
   * replacing any run of another version, in one transaction. Null (nothing staged) when
   * the document is no longer processing that version.
   */
  async stage(doc: { id: string; namespace: string; version: number; attempts: number }, drafts: ChunkDraft[], chunksPerSlice: number): Promise<SliceRun | null> {
    const slices = planSlices(drafts.length, chunksPerSlice);
    return this.db.transaction(async (em) => {
      await em.query(`DELETE FROM document_slice_runs WHERE document_id = $1`, [doc.id]);
      const rows: RunRow[] = await em.query(
        `INSERT INTO document_slice_runs (document_id, version, namespace, attempt, chunks_total, slices_total)
         SELECT d.id, d.version, $3, $4, $5, $6 FROM documents d WHERE d.id = $1 AND d.version = $2 AND d.status = 'processing'
         RETURNING document_id, version, run, namespace, attempt, chunks_total, chunks_embedded, slices_total`,
        [doc.id, doc.version, doc.namespace, doc.attempts, drafts.length, slices.length],
      );
      if (rows.length === 0) return null;
      await em.query(
        `INSERT INTO document_slices (document_id, slice, chunk_from, chunk_to) SELECT $1, * FROM unnest($2::int[], $3::int[], $4::int[])`,
        [doc.id, slices.map((s) => s.slice), slices.map((s) => s.from), slices.map((s) => s.to)],
      );
      for (let from = 0; from < drafts.length; from += STAGE_BATCH_ROWS) {
        const batch = drafts.slice(from, from + STAGE_BATCH_ROWS);
        await em.query(
          `INSERT INTO staged_chunks (document_id, chunk_index, content, content_sha256, context, metadata)
           SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::jsonb[])`,
          [doc.id, batch.map((c) => c.index), batch.map((c) => c.content), batch.map((c) => c.contentSha256), batch.map((c) => c.context), batch.map((c) => JSON.stringify(c.metadata))],
        );
      }
      return toRun(rows[0]);
    });
  }

  /** The run of `version` while the document is processing it; null otherwise. */
  async liveRun(documentId: string, version: number): Promise<SliceRun | null> {
    const rows: RunRow[] = await this.db.query(`SELECT ${RUN_COLUMNS} FROM document_slice_runs r ${LIVE_RUN} WHERE r.document_id = $1 AND r.version = $2`, [documentId, version]);
    return rows[0] ? toRun(rows[0]) : null;
  }

  /** The run of `version` whatever the document's state (a retried failed document carries on with it); null if none. */
  async runOf(documentId: string, version: number): Promise<SliceRun | null> {
    const rows: RunRow[] = await this.db.query(`SELECT ${RUN_COLUMNS} FROM document_slice_runs r WHERE r.document_id = $1 AND r.version = $2`, [documentId, version]);
    return rows[0] ? toRun(rows[0]) : null;
  }

  /** Starts the next fan-out of the same staged chunks, recording the attempt that started it; null if the run is gone. */
  async nextRun(documentId: string, version: number, attempt: number): Promise<SliceRun | null> {
    const rows = await updated<RunRow>(
      this.db,
      `UPDATE document_slice_runs r SET run = run + 1, attempt = $3 WHERE document_id = $1 AND version = $2
       RETURNING ${RUN_COLUMNS}`,
      [documentId, version, attempt],
    );
    return rows[0] ? toRun(rows[0]) : null;
  }

  /** Slices of the run whose vectors are not stored yet. */
  async pendingSlices(documentId: string): Promise<number[]> {
    const rows: Array<{ slice: number }> = await this.db.query(
      `SELECT slice FROM document_slices WHERE document_id = $1 AND embedded_at IS NULL ORDER BY slice`,
      [documentId],
    );
    return rows.map((r) => r.slice);
  }

  /** Slice `slice` of the live run of `version` with its staged chunks; null if that run is no longer live. */
  async loadSlice(documentId: string, version: number, slice: number): Promise<StagedSlice | null> {
    const ranges: Array<{ chunk_from: number; chunk_to: number; embedded: boolean }> = await this.db.query(
      `SELECT s.chunk_from, s.chunk_to, s.embedded_at IS NOT NULL AS embedded
         FROM document_slice_runs r ${LIVE_RUN} JOIN document_slices s ON s.document_id = r.document_id
        WHERE r.document_id = $1 AND r.version = $2 AND s.slice = $3`,
      [documentId, version, slice],
    );
    if (ranges.length === 0) return null;
    const { chunk_from: from, chunk_to: to, embedded } = ranges[0];
    if (embedded) return { slice, from, to, embedded, chunks: [] };
    return { slice, from, to, embedded, chunks: await this.stagedChunks(documentId, from, to) };
  }

  private async stagedChunks(documentId: string, from: number, to: number, where = 'TRUE', params: unknown[] = []): Promise<StagedChunk[]> {
    const rows: Array<{ chunk_index: number; context: string | null; content: string }> = await this.db.query(
      `SELECT chunk_index, context, content FROM staged_chunks
        WHERE document_id = $1 AND chunk_index >= $2 AND chunk_index < $3 AND ${where} ORDER BY chunk_index`,
      [documentId, from, to, ...params],
    );
    return rows.map((r) => ({ index: r.chunk_index, context: r.context, content: r.content }));
  }

  /** Up to `limit` staged chunks from index `from` on whose vectors are not generation `generationId`'s. */
  async chunksNotEmbeddedFor(documentId: string, generationId: number, from: number, limit: number): Promise<StagedChunk[]> {
    return this.stagedChunks(documentId, from, from + limit, 'generation_id IS DISTINCT FROM $4', [generationId]);
  }

  /** Stores vectors of staged chunks (by index) for a generation, outside any slice's bookkeeping. */
  async storeVectors(documentId: string, generationId: number, modelId: string, indexes: number[], vectors: number[][], em: EntityManager | DataSource = this.db): Promise<void> {
    await this.vectorType.write(em, vectors, (embeddings) =>
      em.query(
        `UPDATE staged_chunks s SET embedding = u.emb, model = $3, generation_id = $2
           FROM unnest($4::int[], $5::vector[]) AS u(idx, emb)
          WHERE s.document_id = $1 AND s.chunk_index = u.idx`,
        [documentId, generationId, modelId, indexes, embeddings],
      ),
    );
  }

  /**
   * Stores a slice's vectors and marks it embedded, in one transaction, while the run of
   * `version` is live. Idempotent: a slice stored twice counts once in the progress.
   * Returns the run's progress, or null when the run is no longer live (nothing stored).
   */
  async storeSlice(
    documentId: string,
    version: number,
    slice: StagedSlice,
    embedded: { generationId: number; modelId: string; vectors: number[][]; usage: SliceUsage },
  ): Promise<{ chunksEmbedded: number; chunksTotal: number } | null> {
    return this.db.transaction(async (em) => {
      const live: unknown[] = await em.query(`SELECT 1 FROM document_slice_runs r ${LIVE_RUN} WHERE r.document_id = $1 AND r.version = $2 FOR UPDATE OF r`, [documentId, version]);
      if (live.length === 0) return null;
      await this.storeVectors(documentId, embedded.generationId, embedded.modelId, slice.chunks.map((c) => c.index), embedded.vectors, em);
      const u = embedded.usage;
      const marked = await updated<unknown>(
        em,
        `UPDATE document_slices SET embedded_at = now(), tokens = $3, characters = $4, embedded_texts = $5, cached_texts = $6, tokens_estimated = $7
          WHERE document_id = $1 AND slice = $2 AND embedded_at IS NULL RETURNING 1`,
        [documentId, slice.slice, u.tokens, u.characters, u.embeddedTexts, u.cachedTexts, u.tokensEstimated],
      );
      const rows = await updated<{ chunks_embedded: number; chunks_total: number }>(
        em,
        `UPDATE document_slice_runs SET chunks_embedded = chunks_embedded + $2 WHERE document_id = $1 RETURNING chunks_embedded, chunks_total`,
        [documentId, marked.length > 0 ? slice.to - slice.from : 0],
      );
      return { chunksEmbedded: rows[0].chunks_embedded, chunksTotal: rows[0].chunks_total };
    });
  }

  /**
   * In the caller's transaction (which holds the generation and the document row): moves
   * the run's staged chunks into `table`, replacing the document's chunks there, and
   * drops the run. Returns the chunk count and what embedding cost, or null (nothing
   * changed) when some staged chunk has no vector of `generationId`.
   */
  async publish(em: EntityManager, documentId: string, table: ChunkTable, generationId: number): Promise<{ chunkCount: number; usage: EmbeddingUsageRecord } | null> {
    // Each row costs an HNSW insert, which a busy server may take far longer than
    // PG_STATEMENT_TIMEOUT_MS over for a batch: the job's deadline (scaled by the document) bounds it instead.
    await em.query(`SET LOCAL statement_timeout = 0`);
    const [check]: Array<{ total: number; missing: number }> = await em.query(
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE generation_id IS DISTINCT FROM $2 OR embedding IS NULL)::int AS missing
         FROM staged_chunks WHERE document_id = $1`,
      [documentId, generationId],
    );
    if (check.missing > 0) return null;
    await em.query(`DELETE FROM ${table} WHERE document_id = $1`, [documentId]);
    for (let from = 0; from < check.total; from += PUBLISH_BATCH_ROWS) {
      const to = Math.min(check.total, from + PUBLISH_BATCH_ROWS);
      const ids = Array.from({ length: to - from }, (_, i) => chunkId(documentId, from + i));
      await em.query(
        `INSERT INTO ${table} (id, document_id, namespace, chunk_index, content, content_sha256, char_count, metadata, model, embedding, context)
         SELECT u.id, s.document_id, r.namespace, s.chunk_index, s.content, s.content_sha256, char_length(s.content), s.metadata, s.model, s.embedding, s.context
           FROM unnest($2::uuid[], $3::int[]) AS u(id, idx)
           JOIN staged_chunks s ON s.document_id = $1 AND s.chunk_index = u.idx
           JOIN document_slice_runs r ON r.document_id = s.document_id`,
        [documentId, ids, ids.map((_, i) => from + i)],
      );
    }
    const [usage]: Array<{ tokens: string; characters: string; embedded_texts: number; cached_texts: number; tokens_estimated: boolean }> = await em.query(
      `SELECT coalesce(sum(tokens), 0) AS tokens, coalesce(sum(characters), 0) AS characters, coalesce(sum(embedded_texts), 0)::int AS embedded_texts,
              coalesce(sum(cached_texts), 0)::int AS cached_texts, coalesce(bool_or(tokens_estimated), false) AS tokens_estimated
         FROM document_slices WHERE document_id = $1`,
      [documentId],
    );
    await em.query(`DELETE FROM document_slice_runs WHERE document_id = $1`, [documentId]);
    return {
      chunkCount: check.total,
      usage: {
        tokens: Number(usage.tokens),
        characters: Number(usage.characters),
        embeddedTexts: usage.embedded_texts,
        cachedTexts: usage.cached_texts,
        tokensEstimated: usage.tokens_estimated,
      },
    };
  }

  /** Drops the run of `version` unless the document is still processing it (moved on, or failed for good and retried as a new version). */
  async discardIfStale(documentId: string, version: number): Promise<void> {
    await this.db.query(
      `DELETE FROM document_slice_runs r WHERE r.document_id = $1 AND r.version = $2
          AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = r.document_id AND d.version = r.version AND d.status IN ('processing', 'queued', 'failed'))`,
      [documentId, version],
    );
  }
}
