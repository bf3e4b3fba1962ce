import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ReadDatabase } from '../database/read-database.module';
import { DocumentEntity } from './document.entity';
import { DocumentPage, PageCursor, pageOfDocuments } from './document-page';
import { DocumentStatus } from './document-status';
import { AttemptRecord } from './documents.repository';

/** A document with the model that embedded its searchable chunks. */
export interface DocumentWithModel {
  document: DocumentEntity;
  /** Model stamped on the document's chunks (its last ready version's, in the active generation); null if none. */
  model: string | null;
  /** Chunks embedded so far while a large document's slices run; null otherwise. */
  progress?: SliceProgress | null;
}

/** How far the slices of a large document being processed are. */
export interface SliceProgress {
  chunksEmbedded: number;
  chunksTotal: number;
}

export interface ListFilter {
  namespace?: string;
  /** Only these namespaces (an API key's), when set. */
  namespaces?: string[];
  status?: DocumentStatus;
  limit: number;
  cursor?: PageCursor;
}

/** What a namespace's documents cost to embed, over all their versions and re-embeds. */
export interface NamespaceUsage {
  documents: number;
  chunks: number;
  tokens: number;
  characters: number;
  /** Some tokens are estimates (a provider that reports none and no known tokenizer). */
  estimated: boolean;
}

// A document's chunks are all written at once with one model, so any one of them names it; the unique index
// on (document_id, chunk_index) makes this a single probe.
const EMBEDDED_MODEL = '(SELECT c.model FROM chunks c WHERE c.document_id = d.id LIMIT 1)';

// A large document's fan-out keeps its progress on one row, keyed by document: a single probe.
const SLICE_PROGRESS = `(SELECT json_build_object('chunksEmbedded', r.chunks_embedded, 'chunksTotal', r.chunks_total) FROM document_slice_runs r
  WHERE r.document_id = d.id AND r.version = d.version AND d.status = 'processing')`;

type ReadExtras = { embedded_model: string | null; slice_progress: SliceProgress | null };

/** What the documents API reads: one document or a page of them, attempt history, namespace usage. */
@Injectable()
export class DocumentReadsRepository {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly reads: ReadDatabase,
  ) {}

  /** The document and the model of its vectors; null if there is no such document. */
  async findWithModel(id: string): Promise<DocumentWithModel | null> {
    const { entities, raw } = await this.db
      .getRepository(DocumentEntity)
      .createQueryBuilder('d')
      .addSelect(EMBEDDED_MODEL, 'embedded_model')
      .addSelect(SLICE_PROGRESS, 'slice_progress')
      .where('d.id = :id', { id })
      .getRawAndEntities<ReadExtras>();
    return entities.length === 0 ? null : { document: entities[0], model: raw[0].embedded_model, progress: raw[0].slice_progress };
  }

  /** Newest first, keyset-paginated on (created_at, id), each with the model of its vectors. */
  list(filter: ListFilter): Promise<DocumentPage<DocumentWithModel>> {
    // Listings may lag on a replica; one document's status (findWithModel) is always read from the primary.
    return pageOfDocuments<DocumentWithModel, ReadExtras>(this.reads.source, {
      column: 'created_at',
      limit: filter.limit,
      cursor: filter.cursor,
      where: (qb) => {
        qb.addSelect(EMBEDDED_MODEL, 'embedded_model');
        qb.addSelect(SLICE_PROGRESS, 'slice_progress');
        if (filter.namespace !== undefined) qb.andWhere('d.namespace = :namespace', { namespace: filter.namespace });
        if (filter.namespaces !== undefined) qb.andWhere('d.namespace = ANY(:namespaces)', { namespaces: filter.namespaces });
        if (filter.status !== undefined) qb.andWhere('d.status = :status', { status: filter.status });
      },
      item: (document, raw) => ({ document, model: raw.embedded_model, progress: raw.slice_progress }),
    });
  }

  /** The most recent attempts of a document, oldest first. */
  async attemptHistory(id: string, limit = 50): Promise<AttemptRecord[]> {
    const rows: AttemptRow[] = await this.db.query(
      `SELECT * FROM (SELECT * FROM document_attempts WHERE document_id = $1 ORDER BY id DESC LIMIT $2) a ORDER BY id`,
      [id, limit],
    );
    return rows.map((r) => ({
      documentId: r.document_id,
      version: r.version,
      attempt: r.attempt,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      outcome: r.outcome,
      stage: r.stage,
      errorClass: r.error_class,
      message: r.error_message,
    }));
  }

  /** Embedding cost of a namespace's documents (all versions), for cost reports. */
  async usage(namespace: string): Promise<NamespaceUsage> {
    const rows: UsageRow[] = await this.reads.source.query(
      `SELECT count(*) AS documents, sum(chunk_count) AS chunks, sum(embedding_tokens_total) AS tokens,
              sum(embedding_characters_total) AS characters, bool_or(tokens_estimated) AS estimated
         FROM documents WHERE namespace = $1`,
      [namespace],
    );
    const r = rows[0];
    return {
      documents: Number(r.documents),
      chunks: Number(r.chunks ?? 0),
      tokens: Number(r.tokens ?? 0),
      characters: Number(r.characters ?? 0),
      estimated: r.estimated ?? false,
    };
  }
}

interface AttemptRow {
  document_id: string;
  version: number;
  attempt: number;
  started_at: Date;
  finished_at: Date;
  outcome: AttemptRecord['outcome'];
  stage: string | null;
  error_class: string | null;
  error_message: string | null;
}

interface UsageRow {
  documents: string;
  chunks: string | null;
  tokens: string | null;
  characters: string | null;
  estimated: boolean | null;
}
