import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { toSql } from 'pgvector';
import { DataSource, EntityManager } from 'typeorm';
import { ReadDatabase } from '../database/read-database.module';
import { chunkId } from './chunk-id';
import { ChunkHit, ChunkSearch, SearchRow, keywordQuery, searchQuery, toChunkHit } from './chunk-search.query';
import { ChunkTable } from './generations/generation';
import { GenerationLock } from './generations/generation-lock';
import { KeywordPlan, planKeywords } from './keyword-plan';
import { KeywordStatistics } from './keyword-statistics';

export type { ChunkHit, ChunkRanks, ChunkSearch, FusionParams, MetadataCondition, MetadataFilter, SearchMode } from './chunk-search.query';
export { keywordQuery } from './chunk-search.query';

/** Rows per INSERT when replacing a document's chunks. */
export const WRITE_BATCH_ROWS = 500;

/** A chunk ready to store: text, position and its vector. */
export interface ChunkToWrite {
  index: number;
  content: string;
  contentSha256: string;
  metadata: Record<string, unknown>;
  embedding: number[];
  /**
   * Title and heading path of the chunk (see `chunkContext`), indexed for keywords with
   * the content; null or absent when the chunk has none.
   */
  context?: string | null;
}

/** A stored chunk as a re-embed copies it into the next generation. */
export interface StoredChunk {
  index: number;
  namespace: string;
  content: string;
  contentSha256: string;
  context: string | null;
  metadata: Record<string, unknown>;
}

/** The pgvector chunk tables: transactional replace of a document's chunks, and similarity search. */
@Injectable()
export class ChunkRepository {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly lock: GenerationLock,
    private readonly statistics: KeywordStatistics,
    private readonly reads: ReadDatabase,
  ) {}

  /**
   * Replaces all chunks of a document in `table` with `chunks`, each stamped with the
   * `model` that embedded it, inside the caller's transaction, which must hold that
   * table's generation (`GenerationLock.hold`). Rows go in INSERTs of at most
   * WRITE_BATCH_ROWS (arrays unnested server-side).
   */
  async replaceChunks(
    em: EntityManager,
    table: ChunkTable,
    documentId: string,
    namespace: string,
    model: string,
    chunks: ChunkToWrite[],
  ): Promise<void> {
    await em.query(`DELETE FROM ${table} WHERE document_id = $1`, [documentId]);
    // Bounded batches: one statement's parameters stay a few megabytes whatever the document's size.
    for (let from = 0; from < chunks.length; from += WRITE_BATCH_ROWS) {
      await this.insertChunks(em, table, documentId, namespace, model, chunks.slice(from, from + WRITE_BATCH_ROWS));
    }
  }

  private async insertChunks(em: EntityManager, table: ChunkTable, documentId: string, namespace: string, model: string, chunks: ChunkToWrite[]): Promise<void> {
    await em.query(
      `INSERT INTO ${table} (id, document_id, namespace, chunk_index, content, content_sha256, char_count, metadata, model, embedding, context)
       SELECT u.id, $1, $2, u.idx, u.content, u.sha, char_length(u.content), u.meta, $3, u.emb, u.ctx
         FROM unnest($4::uuid[], $5::int[], $6::text[], $7::text[], $8::jsonb[], $9::vector[], $10::text[])
              AS u(id, idx, content, sha, meta, emb, ctx)`,
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
        chunks.map((c) => c.context ?? null),
      ],
    );
  }

  /**
   * The best chunks for a query in one round trip (see `searchQuery`), read while holding
   * the active generation whose model embedded the query. Throws `GenerationChangedError`
   * when that generation is no longer active.
   */
  async search(s: ChunkSearch): Promise<ChunkHit[]> {
    // On a replica, one snapshot for the whole search: a generation switch replayed
    // between its statements cannot show it a table that has changed under it.
    const isolation = this.reads.isReplica ? 'REPEATABLE READ' : 'READ COMMITTED';
    return this.reads.source.transaction(isolation, async (em) => {
      // Before anything that may wait: a search that cannot finish soon gives its connection back.
      if (s.statementTimeoutMs !== undefined) await em.query(`SET LOCAL statement_timeout = ${Math.trunc(s.statementTimeoutMs)}`);
      await this.lock.hold(em, s.generation);
      const keyword = s.mode === 'vector' ? null : await this.keywordPlan(em, s);
      const exactVector = s.mode !== 'keyword' && (await this.statistics.namespaceChunks(s.namespace)) <= s.exactVectorMaxChunks;
      // Read in the search's transaction, under the generation hold that a backfill's start excludes.
      const ownIndex = s.mode !== 'keyword' && (await this.hasOwnIndex(em, s.namespace));
      const { sql, params } = searchQuery({ ...s, exactVector, ownIndex }, keyword);
      if (s.mode !== 'keyword' && !exactVector) {
        // SET LOCAL takes no bind parameters; the value is an integer computed from validated config.
        await em.query(`SET LOCAL hnsw.ef_search = ${Math.min(1000, Math.max(Math.trunc(s.efSearch), s.candidates))}`);
        await em.query(`SET LOCAL hnsw.iterative_scan = relaxed_order`);
      }
      const rows: SearchRow[] = await em.query(sql, params);
      return rows.map(toChunkHit);
    });
  }

  /** True when the namespace was backfilled: its chunks are in an HNSW index of its own (see NamespaceIndexes). */
  private async hasOwnIndex(em: EntityManager, namespace: string): Promise<boolean> {
    const rows: unknown[] = await em.query(`SELECT 1 FROM namespace_indexes WHERE namespace = $1`, [namespace]);
    return rows.length > 0;
  }

  /** Which chunks the keyword list scores, from the query's lexemes and the namespace's statistics. */
  private async keywordPlan(em: EntityManager, s: ChunkSearch): Promise<KeywordPlan> {
    const [rows, frequencies, total] = await Promise.all([
      em.query(`SELECT coalesce(array_agg(DISTINCT lexeme), '{}') AS lexemes FROM unnest(to_tsvector('english', $1))`, [
        keywordQuery(s.query).all,
      ]) as Promise<Array<{ lexemes: string[] }>>,
      this.statistics.lexemeFrequencies(),
      this.statistics.namespaceChunks(s.namespace),
    ]);
    return planKeywords(rows[0].lexemes, frequencies, total, s.keywordBudget);
  }

  /**
   * The chunks a document has in the active generation while it is at `version`, read in
   * one snapshot with its status: those of that version when it is ready, else those of
   * the last version that was (none if it never was). Null if the document is gone or
   * at another version.
   */
  async documentChunks(documentId: string, version: number): Promise<{ ready: boolean; chunks: StoredChunk[] } | null> {
    const rows: Array<{ ready: boolean; chunk_index: number | null; namespace: string; content: string; content_sha256: string; context: string | null; metadata: Record<string, unknown> }> =
      await this.db.query(
        `SELECT d.status = 'ready' AS ready, c.chunk_index, c.namespace, c.content, c.content_sha256, c.context, c.metadata
           FROM documents d LEFT JOIN chunks c ON c.document_id = d.id
          WHERE d.id = $1 AND d.version = $2
          ORDER BY c.chunk_index`,
        [documentId, version],
      );
    if (rows.length === 0) return null;
    const chunks = rows
      .filter((r) => r.chunk_index !== null)
      .map((r) => ({
        index: r.chunk_index as number,
        namespace: r.namespace,
        content: r.content,
        contentSha256: r.content_sha256,
        context: r.context,
        metadata: r.metadata,
      }));
    return { ready: rows[0].ready, chunks };
  }
}

