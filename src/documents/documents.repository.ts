import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, SelectQueryBuilder } from 'typeorm';
import { DocumentContentEntity } from './document-content.entity';
import { DocumentEntity } from './document.entity';
import { DocumentStatus } from './document-status';
import { PipelineConfig } from './pipeline';

export interface NewDocument {
  namespace: string;
  externalId: string | null;
  title: string | null;
  metadata: Record<string, unknown>;
  content: string;
  contentSha256: string;
  pipeline: PipelineConfig;
  pipelineHash: string;
}

export interface DocumentPage {
  items: DocumentEntity[];
  nextCursor: string | null;
}

export interface ListFilter {
  namespace?: string;
  status?: DocumentStatus;
  limit: number;
  cursor?: { createdAt: string; id: string };
}

/** A document claimed by a worker for one version, with what the pipeline needs. */
export interface ClaimedDocument {
  id: string;
  namespace: string;
  title: string | null;
  metadata: Record<string, unknown>;
  pipeline: PipelineConfig;
  version: number;
  attempts: number;
}

/**
 * Every read and state transition of the `documents` table. Transitions are conditional
 * updates (`WHERE version = … AND status …`), so a late or duplicate job cannot move a
 * document that has moved on.
 */
@Injectable()
export class DocumentsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  transaction<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  /** Inserts a new document; returns null if (namespace, externalId) already exists. */
  async insert(em: EntityManager, doc: NewDocument): Promise<DocumentEntity | null> {
    const rows: Array<{ id: string }> = await em.query(
      `INSERT INTO documents (namespace, external_id, title, metadata, content_sha256, content_length, pipeline, pipeline_hash, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued')
       ON CONFLICT DO NOTHING
       RETURNING id`,
      [doc.namespace, doc.externalId, doc.title, doc.metadata, doc.contentSha256, doc.content.length, doc.pipeline, doc.pipelineHash],
    );
    if (rows.length === 0) return null;
    await em.query(`INSERT INTO document_contents (document_id, version, content) VALUES ($1, 1, $2)`, [rows[0].id, doc.content]);
    return em.findOneByOrFail(DocumentEntity, { id: rows[0].id });
  }

  findByExternalIdForUpdate(em: EntityManager, namespace: string, externalId: string): Promise<DocumentEntity | null> {
    return em
      .createQueryBuilder(DocumentEntity, 'd')
      .setLock('pessimistic_write')
      .where('d.namespace = :namespace AND d.external_id = :externalId', { namespace, externalId })
      .getOne();
  }

  /** Replaces a document's text and settings with a new version, queued for processing. */
  async newVersion(em: EntityManager, existing: DocumentEntity, doc: NewDocument): Promise<DocumentEntity> {
    await em.query(
      `UPDATE documents SET title = $2, metadata = $3, content_sha256 = $4, content_length = $5, pipeline = $6,
              pipeline_hash = $7, ${QUEUED_NEXT_VERSION}
        WHERE id = $1`,
      [existing.id, doc.title, doc.metadata, doc.contentSha256, doc.content.length, doc.pipeline, doc.pipelineHash],
    );
    await em.query(
      `UPDATE document_contents SET version = d.version, content = $2 FROM documents d
        WHERE d.id = $1 AND document_contents.document_id = d.id`,
      [existing.id, doc.content],
    );
    return em.findOneByOrFail(DocumentEntity, { id: existing.id });
  }

  /** Queues the current text again under a new version (reprocess). Null if not found. */
  async requeue(id: string): Promise<DocumentEntity | null> {
    return this.db.transaction(async (em) => {
      const [rows]: [Array<{ version: number }>, number] = await em.query(
        `UPDATE documents SET ${QUEUED_NEXT_VERSION} WHERE id = $1 RETURNING version`,
        [id],
      );
      if (rows.length === 0) return null;
      await em.query(`UPDATE document_contents SET version = $2 WHERE document_id = $1`, [id, rows[0].version]);
      return em.findOneByOrFail(DocumentEntity, { id });
    });
  }

  findById(id: string): Promise<DocumentEntity | null> {
    return this.db.getRepository(DocumentEntity).findOneBy({ id });
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.db.getRepository(DocumentEntity).delete({ id });
    return (result.affected ?? 0) > 0;
  }

  /** Newest first, keyset-paginated on (created_at, id). */
  list(filter: ListFilter): Promise<DocumentPage> {
    return this.page('created_at', filter.limit, filter.cursor, (qb) => {
      if (filter.namespace !== undefined) qb.andWhere('d.namespace = :namespace', { namespace: filter.namespace });
      if (filter.status !== undefined) qb.andWhere('d.status = :status', { status: filter.status });
    });
  }

  /** One page of documents newest first by `column`, keyset-paginated on (column, id). */
  private async page(
    column: 'created_at' | 'updated_at',
    limit: number,
    cursor: { createdAt: string; id: string } | undefined,
    where: (qb: SelectQueryBuilder<DocumentEntity>) => void,
  ): Promise<DocumentPage> {
    const qb = this.db
      .getRepository(DocumentEntity)
      .createQueryBuilder('d')
      .addSelect(`to_char(d.${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`, 'cursor_ts')
      .where('true')
      .orderBy(`d.${column}`, 'DESC')
      .addOrderBy('d.id', 'DESC')
      .limit(limit + 1);
    where(qb);
    if (cursor) qb.andWhere(`(d.${column}, d.id) < (:ts::timestamptz, :cid::uuid)`, { ts: cursor.createdAt, cid: cursor.id });
    const { entities, raw } = await qb.getRawAndEntities<{ cursor_ts: string }>();
    const items = entities.slice(0, limit);
    const last = items.length - 1;
    const nextCursor = entities.length > limit && last >= 0 ? encodeCursor(raw[last].cursor_ts, items[last].id) : null;
    return { items, nextCursor };
  }

  /**
   * Marks a document `processing` for the given version, only if that version is still
   * current and not finished. Null means the job is stale (or the document is gone).
   */
  async claim(id: string, version: number): Promise<ClaimedDocument | null> {
    const [rows]: [ClaimedDocument[], number] = await this.db.query(
      `UPDATE documents
          SET status = 'processing', attempts = attempts + 1, started_at = now(), updated_at = now()
        WHERE id = $1 AND version = $2 AND status IN ('queued', 'processing')
        RETURNING id, namespace, title, metadata, pipeline, version, attempts`,
      [id, version],
    );
    return rows[0] ?? null;
  }

  /** The text of the given version, or null if the document has moved on or is gone. */
  async loadContent(id: string, version: number): Promise<string | null> {
    const row = await this.db.getRepository(DocumentContentEntity).findOneBy({ documentId: id, version });
    return row?.content ?? null;
  }

  /** Within the chunk-writing transaction: locks the row if the version is still being processed. */
  async lockProcessing(em: EntityManager, id: string, version: number): Promise<boolean> {
    const rows: unknown[] = await em.query(
      `SELECT 1 FROM documents WHERE id = $1 AND version = $2 AND status = 'processing' FOR UPDATE`,
      [id, version],
    );
    return rows.length > 0;
  }

  /**
   * Inside a transaction: true while the document is at `version` and ready (or, with
   * `ready` false, not ready), which then holds until the transaction ends.
   */
  async lockUnchanged(em: EntityManager, id: string, version: number, ready: boolean): Promise<boolean> {
    const rows: unknown[] = await em.query(
      `SELECT 1 FROM documents WHERE id = $1 AND version = $2 AND (status = 'ready') = $3 FOR UPDATE`,
      [id, version, ready],
    );
    return rows.length > 0;
  }

  /** Adds what re-embedding the document into a new generation cost to its lifetime total. */
  async addEmbeddingCost(em: EntityManager, id: string, cost: { tokens: number; characters: number; estimated: boolean }): Promise<void> {
    await em.query(
      `UPDATE documents SET embedding_tokens_total = embedding_tokens_total + $2, tokens_estimated = tokens_estimated OR $3,
              embedding_characters_total = embedding_characters_total + $4
        WHERE id = $1`,
      [id, cost.tokens, cost.estimated, cost.characters],
    );
  }

  async markReady(em: EntityManager, id: string, version: number, chunkCount: number, usage: EmbeddingUsageRecord): Promise<void> {
    await em.query(
      `UPDATE documents SET status = 'ready', chunk_count = $3, last_error = NULL, last_error_class = NULL,
              failed_stage = NULL, completed_at = now(), updated_at = now(),
              embedding_tokens = $4, embedding_tokens_total = embedding_tokens_total + $4,
              embedded_texts = $5, cached_texts = $6, tokens_estimated = $7,
              embedding_characters = $8, embedding_characters_total = embedding_characters_total + $8
        WHERE id = $1 AND version = $2`,
      [id, version, chunkCount, usage.tokens, usage.embeddedTexts, usage.cachedTexts, usage.tokensEstimated, usage.characters],
    );
  }

  /** Embedding cost of a namespace's documents (all versions), for cost reports. */
  async usage(namespace: string): Promise<NamespaceUsage> {
    const rows: Array<{ documents: string; chunks: string | null; tokens: string | null; characters: string | null; estimated: boolean | null }> =
      await this.db.query(
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

  /**
   * Records a failed attempt on the document: `final` moves it to `failed` (a dead
   * letter), otherwise back to `queued` for the retry BullMQ has scheduled. False when
   * the version is no longer current (nothing to record).
   */
  async markAttemptFailed(id: string, version: number, failure: AttemptFailure, final: boolean): Promise<boolean> {
    const [, count]: [unknown[], number] = await this.db.query(
      `UPDATE documents SET status = $3, last_error = $4, last_error_class = $5, failed_stage = $6, updated_at = now(),
              completed_at = CASE WHEN $3 = 'failed' THEN now() ELSE completed_at END
        WHERE id = $1 AND version = $2 AND status IN ('queued', 'processing')`,
      [id, version, final ? 'failed' : 'queued', failure.message.slice(0, 4000), failure.errorClass, failure.stage],
    );
    return count > 0;
  }

  /** Appends one attempt to the document's history. */
  async recordAttempt(a: AttemptRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO document_attempts (document_id, version, attempt, started_at, outcome, stage, error_class, error_message)
       SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE EXISTS (SELECT 1 FROM documents WHERE id = $1)`,
      [a.documentId, a.version, a.attempt, a.startedAt, a.outcome, a.stage, a.errorClass, a.message?.slice(0, 4000) ?? null],
    );
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

  /** Failed documents not discarded: the dead letters, newest failure first. */
  listDeadLetters(filter: DeadLetterFilter): Promise<DocumentPage> {
    return this.page('updated_at', filter.limit, filter.cursor, (qb) => {
      qb.andWhere(`d.status = 'failed' AND d.dead_letter_discarded_at IS NULL`);
      if (filter.namespace !== undefined) qb.andWhere('d.namespace = :namespace', { namespace: filter.namespace });
      if (filter.errorClass !== undefined) qb.andWhere('d.last_error_class = :ec', { ec: filter.errorClass });
    });
  }

  /**
   * Queues failed documents again under a new version (fresh attempts, new job id).
   * `ids` limits it to those documents; otherwise the namespace/errorClass filter picks them.
   */
  async requeueDeadLetters(sel: { ids?: string[]; namespace?: string; errorClass?: string; limit: number }): Promise<
    Array<{ id: string; version: number }>
  > {
    return this.db.transaction(async (em) => {
      const [rows]: [Array<{ id: string; version: number }>, number] = await em.query(
        `UPDATE documents SET ${QUEUED_NEXT_VERSION}
          WHERE id IN (SELECT id FROM documents
                        WHERE status = 'failed' AND dead_letter_discarded_at IS NULL
                          AND ($1::uuid[] IS NULL OR id = ANY($1::uuid[]))
                          AND ($2::text IS NULL OR namespace = $2)
                          AND ($3::text IS NULL OR last_error_class = $3)
                        ORDER BY updated_at
                        LIMIT $4
                        FOR UPDATE SKIP LOCKED)
          RETURNING id, version`,
        [sel.ids ?? null, sel.namespace ?? null, sel.errorClass ?? null, sel.limit],
      );
      if (rows.length > 0) {
        await em.query(
          `UPDATE document_contents c SET version = d.version FROM documents d
            WHERE d.id = c.document_id AND d.id = ANY($1::uuid[])`,
          [rows.map((r) => r.id)],
        );
      }
      return rows;
    });
  }

  /** Takes a dead letter off the list; the document stays failed. False if it is not a dead letter. */
  async discardDeadLetter(id: string): Promise<{ id: string; version: number } | null> {
    const [rows]: [Array<{ id: string; version: number }>, number] = await this.db.query(
      `UPDATE documents SET dead_letter_discarded_at = now()
        WHERE id = $1 AND status = 'failed' AND dead_letter_discarded_at IS NULL
        RETURNING id, version`,
      [id],
    );
    return rows[0] ?? null;
  }

  /**
   * Documents waiting (queued or processing) with no change for `olderThanMs`: candidates
   * for the reconciler, which re-enqueues those with no live job.
   */
  async findStale(olderThanMs: number, limit: number): Promise<Array<{ id: string; version: number; status: DocumentStatus }>> {
    return this.db.query(
      `SELECT id, version, status FROM documents
        WHERE status IN ('queued', 'processing') AND updated_at < now() - make_interval(secs => $1::float8 / 1000)
        ORDER BY updated_at LIMIT $2`,
      [olderThanMs, limit],
    );
  }

  /** Failed, not discarded documents (id, version, why): what the dead-letter queue must hold. */
  async deadLetterSnapshot(limit: number): Promise<DeadLetterRow[]> {
    return this.db.query(
      `SELECT id, version, namespace, attempts, last_error, last_error_class, failed_stage, updated_at
         FROM documents WHERE status = 'failed' AND dead_letter_discarded_at IS NULL
        ORDER BY updated_at DESC LIMIT $1`,
      [limit],
    );
  }
}

/** What embedding one document version cost. */
/** What a namespace's documents cost to embed, over all their versions and re-embeds. */
export interface NamespaceUsage {
  documents: number;
  chunks: number;
  tokens: number;
  characters: number;
  /** Some tokens are estimates (a provider that reports none and no known tokenizer). */
  estimated: boolean;
}

export interface EmbeddingUsageRecord {
  tokens: number;
  /** Characters of the texts sent to the provider. */
  characters: number;
  embeddedTexts: number;
  cachedTexts: number;
  tokensEstimated: boolean;
}

export interface AttemptFailure {
  message: string;
  errorClass: string;
  stage: string | null;
}

export interface AttemptRecord {
  documentId: string;
  version: number;
  attempt: number;
  startedAt: Date;
  finishedAt?: Date;
  outcome: 'ready' | 'retry' | 'failed' | 'stale';
  stage: string | null;
  errorClass: string | null;
  message: string | null;
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

export interface DeadLetterFilter {
  namespace?: string;
  errorClass?: string;
  limit: number;
  cursor?: { createdAt: string; id: string };
}

export interface DeadLetterRow {
  id: string;
  version: number;
  namespace: string;
  attempts: number;
  last_error: string | null;
  last_error_class: string | null;
  failed_stage: string | null;
  updated_at: Date;
}

// A new version starts afresh: the old version's attempts and errors no longer apply.
const QUEUED_NEXT_VERSION = `status = 'queued', version = version + 1, attempts = 0, last_error = NULL,
  last_error_class = NULL, failed_stage = NULL, dead_letter_discarded_at = NULL,
  started_at = NULL, completed_at = NULL, updated_at = now()`;

export function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(`${createdAt}|${id}`, 'utf8').toString('base64url');
}

/** Null when the cursor is not one this service handed out. */
export function decodeCursor(cursor: string): { createdAt: string; id: string } | null {
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)\|([0-9a-f-]{36})$/.exec(decoded);
  return match ? { createdAt: match[1], id: match[2] } : null;
}
