import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ReadDatabase } from '../database/read-database.module';
import { chunkId } from './chunk-id';
import { ChunkHit, ChunkSearch, SearchRow, keywordQuery, searchQuery, toChunkHit } from './chunk-search.query';
import { ChunkTable } from './generations/generation';
import { GenerationLock } from './generations/generation-lock';
import { KeywordPlan, matchOwnRows, matchTextIndexOnly, planKeywords, textIndexChunks } from './keyword-plan';
import { KeywordStatistics } from './keyword-statistics';
import { QueryLexemes } from './query-lexemes';
import { VectorTypeOid } from '../database/vector-array-param';

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

/** One document's chunks for `replaceChunksOfMany`, embedded by `model`. */
export interface DocumentChunks {
  documentId: string;
  namespace: string;
  model: string;
  chunks: ChunkToWrite[];
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

/**
 * The INSERT that writes chunks: ten parallel arrays (ids, document ids, namespaces, indexes,
 * contents, content hashes, metadata, models, vectors in binary, contexts), unnested server-side.
 */
export function insertChunksSql(table: ChunkTable): string {
  return `INSERT INTO ${table} (id, document_id, namespace, chunk_index, content, content_sha256, char_count, metadata, model, embedding, context)
           SELECT u.id, u.doc, u.ns, u.idx, u.content, u.sha, char_length(u.content), u.meta, u.model, u.emb, u.ctx
             FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::int[], $5::text[], $6::text[], $7::jsonb[], $8::text[], $9::vector[], $10::text[])
                  AS u(id, doc, ns, idx, content, sha, meta, model, emb, ctx)`;
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

  /** Chunk vectors go to Postgres in binary (see vectorArrayParam). */
  private readonly vectorType = new VectorTypeOid();

  private readonly lexemes = new QueryLexemes(async (text) => {
    const rows: Array<{ lexemes: string[] }> = await this.reads.source.query(
      `SELECT coalesce(array_agg(DISTINCT lexeme), '{}') AS lexemes FROM unnest(to_tsvector('english', $1))`,
      [text],
    );
    return rows[0].lexemes;
  });

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
    await this.replaceChunksOfMany(em, table, [{ documentId, namespace, model, chunks }]);
  }

  /**
   * `replaceChunks` for several documents (each id once) in one DELETE and as few INSERTs
   * as their rows allow: a group of small documents costs a handful of statements, not a
   * handful per document.
   */
  async replaceChunksOfMany(em: EntityManager, table: ChunkTable, docs: DocumentChunks[]): Promise<void> {
    await em.query(`DELETE FROM ${table} WHERE document_id = ANY($1::uuid[])`, [docs.map((d) => d.documentId)]);
    const rows = docs.flatMap((d) => d.chunks.map((chunk) => ({ doc: d, chunk })));
    // Bounded batches: one statement's parameters stay a few megabytes whatever the documents' sizes.
    for (let from = 0; from < rows.length; from += WRITE_BATCH_ROWS) {
      await this.insertChunks(em, table, rows.slice(from, from + WRITE_BATCH_ROWS));
    }
  }

  private async insertChunks(em: EntityManager, table: ChunkTable, rows: Array<{ doc: DocumentChunks; chunk: ChunkToWrite }>): Promise<void> {
    await this.vectorType.write(
      em,
      rows.map((r) => r.chunk.embedding),
      (embeddings) =>
        em.query(
          insertChunksSql(table),
          [
            rows.map((r) => chunkId(r.doc.documentId, r.chunk.index)),
            rows.map((r) => r.doc.documentId),
            rows.map((r) => r.doc.namespace),
            rows.map((r) => r.chunk.index),
            rows.map((r) => r.chunk.content),
            rows.map((r) => r.chunk.contentSha256),
            rows.map((r) => JSON.stringify(r.chunk.metadata)),
            rows.map((r) => r.doc.model),
            embeddings,
            rows.map((r) => r.chunk.context ?? null),
          ],
        ),
    );
  }

  /**
   * The best chunks for a query (see `searchQuery`), read while holding the active
   * generation whose model embedded the query. Throws `GenerationChangedError` when that
   * generation is no longer active.
   */
  async search(s: ChunkSearch): Promise<ChunkHit[]> {
    // Planned before a connection is taken, from what the process keeps (statistics, lexemes).
    const [chunks, tableChunks] = await Promise.all([this.statistics.namespaceChunks(s.namespace), this.statistics.tableChunks()]);
    const exactVector = s.mode !== 'keyword' && chunks <= s.exactVectorMaxChunks;
    const keywordOwnRows = matchOwnRows(chunks, tableChunks, s.exactVectorMaxChunks);
    const keyword = s.mode === 'vector' ? null : await this.keywordPlan(s, chunks, textIndexChunks(chunks, tableChunks, keywordOwnRows));
    const keywordTextIndexOnly = !keywordOwnRows && matchTextIndexOnly(chunks, tableChunks);
    // SET LOCAL takes no bind parameters; each value is an integer computed from validated config.
    // Sent with the lock in one round trip: a search is a few milliseconds of work, and each
    // round trip costs both processes CPU.
    const settings: string[] = [];
    // Before anything that may wait: a search that cannot finish soon gives its connection back.
    if (s.statementTimeoutMs !== undefined) settings.push(`SET LOCAL statement_timeout = ${Math.trunc(s.statementTimeoutMs)}`);
    if (s.mode !== 'keyword' && !exactVector) {
      settings.push(`SET LOCAL hnsw.ef_search = ${Math.min(1000, Math.max(Math.trunc(s.efSearch), s.candidates))}`);
      settings.push(`SET LOCAL hnsw.iterative_scan = relaxed_order`);
    }
    const run = async (em: EntityManager): Promise<ChunkHit[]> => {
      await this.lock.hold(em, s.generation, settings);
      // Read under the generation hold, which a backfill's start excludes.
      const ownIndex = s.mode !== 'keyword' && (await this.hasOwnIndex(em, s.namespace));
      const { sql, params } = searchQuery({ ...s, exactVector, keywordOwnRows, keywordTextIndexOnly, ownIndex }, keyword);
      const rows: SearchRow[] = await em.query(sql, params);
      return rows.map(toChunkHit);
    };
    // On a replica, one snapshot for the whole search: a generation switch replayed between
    // its statements cannot show it a table that has changed under it. On the primary the
    // default level (READ COMMITTED) needs no statement of its own.
    return this.reads.isReplica ? this.reads.source.transaction('REPEATABLE READ', run) : this.reads.source.transaction(run);
  }

  /** True when the namespace was backfilled: its chunks are in an HNSW index of its own (see NamespaceIndexes). */
  private async hasOwnIndex(em: EntityManager, namespace: string): Promise<boolean> {
    const rows: unknown[] = await em.query(`SELECT 1 FROM namespace_indexes WHERE namespace = $1`, [namespace]);
    return rows.length > 0;
  }

  /**
   * Which chunks the keyword list scores, from the query's lexemes and the namespace's
   * statistics; `indexedChunks` are those whose postings the text index reads for it.
   */
  private async keywordPlan(s: ChunkSearch, namespaceChunks: number, indexedChunks: number): Promise<KeywordPlan> {
    const [lexemes, frequencies] = await Promise.all([this.lexemes.of(keywordQuery(s.query).all), this.statistics.lexemeFrequencies()]);
    return planKeywords(lexemes, frequencies, namespaceChunks, s.keywordBudget, indexedChunks);
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

