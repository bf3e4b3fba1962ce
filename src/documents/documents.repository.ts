import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { DocumentSource } from './document-source';
import { DocumentEntity } from './document.entity';
import { DocumentStatus } from './document-status';
import { IS_DEAD_LETTER } from './document-state.sql';
import { PipelineConfig } from './pipeline';

/** A document claimed by a worker for one version, with what the pipeline needs. */
export interface ClaimedDocument {
  id: string;
  namespace: string;
  title: string | null;
  metadata: Record<string, unknown>;
  pipeline: PipelineConfig;
  version: number;
  attempts: number;
  /** The uploaded file whose text the worker extracts; null (or absent) for a document posted as text. */
  source?: DocumentSource | null;
}

/**
 * What the workers read and change of a document while processing it, re-embedding it, and reconciling the
 * queue with Postgres. Transitions are conditional updates (`WHERE version = … AND status …`), so a late or
 * duplicate job cannot move a document that has moved on. The API's side is in `DocumentVersionsRepository`,
 * `DocumentReadsRepository`, `DeadLetterRepository` and `IdempotencyRepository`.
 */
@Injectable()
export class DocumentsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Runs `work` in one transaction, for the methods that take an `EntityManager`. */
  transaction<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  /** The document's row (never its text), or null if it is gone. */
  findById(id: string): Promise<DocumentEntity | null> {
    return this.db.getRepository(DocumentEntity).findOneBy({ id });
  }

  /** The length of the document's current text (what a job's deadline scales with), or null if it is gone. */
  async contentLength(id: string): Promise<number | null> {
    // Plain SQL: this runs once per job, where an entity query's own work showed in the worker's profile.
    const rows: Array<{ n: number }> = await this.db.query(`SELECT content_length AS n FROM documents WHERE id = $1`, [id]);
    return rows[0]?.n ?? null;
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
        RETURNING id, namespace, title, metadata, pipeline, version, attempts, source`,
      [id, version],
    );
    return rows[0] ?? null;
  }

  /** The text of the given version, or null if the document has moved on or is gone. */
  async loadContent(id: string, version: number): Promise<string | null> {
    const rows: Array<{ content: string }> = await this.db.query(`SELECT content FROM document_contents WHERE document_id = $1 AND version = $2`, [id, version]);
    return rows[0]?.content ?? null;
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
   * `lockProcessing` for many documents in one statement, locking rows in id order so two
   * writers of overlapping groups cannot deadlock. Returns the ids still being processed
   * at the given version.
   */
  async lockProcessingMany(em: EntityManager, docs: Array<{ id: string; version: number }>): Promise<Set<string>> {
    const rows: Array<{ id: string }> = await em.query(
      `SELECT d.id FROM documents d JOIN unnest($1::uuid[], $2::int[]) AS u(id, version) ON d.id = u.id AND d.version = u.version
        WHERE d.status = 'processing' ORDER BY d.id FOR UPDATE OF d`,
      [docs.map((d) => d.id), docs.map((d) => d.version)],
    );
    return new Set(rows.map((r) => r.id));
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

  /** Marks the version ready with its chunk count and what embedding it cost (added to the lifetime totals). */
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

  /** `markReady` for many documents in one statement (each id once). */
  async markReadyMany(em: EntityManager, docs: Array<{ id: string; version: number; chunkCount: number; usage: EmbeddingUsageRecord }>): Promise<void> {
    await em.query(
      `UPDATE documents d SET status = 'ready', chunk_count = u.chunk_count, last_error = NULL, last_error_class = NULL,
              failed_stage = NULL, completed_at = now(), updated_at = now(),
              embedding_tokens = u.tokens, embedding_tokens_total = d.embedding_tokens_total + u.tokens,
              embedded_texts = u.embedded, cached_texts = u.cached, tokens_estimated = u.estimated,
              embedding_characters = u.characters, embedding_characters_total = d.embedding_characters_total + u.characters
         FROM unnest($1::uuid[], $2::int[], $3::int[], $4::bigint[], $5::int[], $6::int[], $7::boolean[], $8::bigint[])
              AS u(id, version, chunk_count, tokens, embedded, cached, estimated, characters)
        WHERE d.id = u.id AND d.version = u.version`,
      [
        docs.map((d) => d.id),
        docs.map((d) => d.version),
        docs.map((d) => d.chunkCount),
        docs.map((d) => d.usage.tokens),
        docs.map((d) => d.usage.embeddedTexts),
        docs.map((d) => d.usage.cachedTexts),
        docs.map((d) => d.usage.tokensEstimated),
        docs.map((d) => d.usage.characters),
      ],
    );
  }

  /**
   * Records a failed attempt on the document: `final` moves it to `failed` (a dead
   * letter), otherwise back to `queued` for the retry BullMQ has scheduled. False when
   * the version is no longer current (nothing to record).
   */
  async markAttemptFailed(
    id: string,
    version: number,
    failure: AttemptFailure,
    final: boolean,
    em: EntityManager | DataSource = this.db,
  ): Promise<boolean> {
    const [, count]: [unknown[], number] = await em.query(
      `UPDATE documents SET status = $3, last_error = $4, last_error_class = $5, failed_stage = $6, updated_at = now(),
              completed_at = CASE WHEN $3 = 'failed' THEN now() ELSE completed_at END
        WHERE id = $1 AND version = $2 AND status IN ('queued', 'processing')`,
      [id, version, final ? 'failed' : 'queued', failure.message.slice(0, 4000), failure.errorClass, failure.stage],
    );
    return count > 0;
  }

  /** Appends one attempt to the document's history. */
  async recordAttempt(a: AttemptRecord, em: EntityManager | DataSource = this.db): Promise<void> {
    await em.query(
      `INSERT INTO document_attempts (document_id, version, attempt, started_at, outcome, stage, error_class, error_message)
       SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE EXISTS (SELECT 1 FROM documents WHERE id = $1)`,
      [a.documentId, a.version, a.attempt, a.startedAt, a.outcome, a.stage, a.errorClass, a.message?.slice(0, 4000) ?? null],
    );
  }

  /** `recordAttempt` for many attempts in one statement. */
  async recordAttempts(em: EntityManager, attempts: AttemptRecord[]): Promise<void> {
    if (attempts.length === 0) return;
    await em.query(
      `INSERT INTO document_attempts (document_id, version, attempt, started_at, outcome, stage, error_class, error_message)
       SELECT u.* FROM unnest($1::uuid[], $2::int[], $3::int[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::text[])
                AS u(document_id, version, attempt, started_at, outcome, stage, error_class, error_message)
        WHERE EXISTS (SELECT 1 FROM documents WHERE id = u.document_id)`,
      [
        attempts.map((a) => a.documentId),
        attempts.map((a) => a.version),
        attempts.map((a) => a.attempt),
        attempts.map((a) => a.startedAt),
        attempts.map((a) => a.outcome),
        attempts.map((a) => a.stage),
        attempts.map((a) => a.errorClass),
        attempts.map((a) => a.message?.slice(0, 4000) ?? null),
      ],
    );
  }

  /**
   * Documents waiting (queued or processing) with no change for `olderThanMs`: candidates
   * for the reconciler, which re-enqueues those with no live job.
   */
  async findStale(olderThanMs: number, limit: number, page: StalePage = {}): Promise<StaleDocument[]> {
    return this.db.query(
      `SELECT id, namespace, version, status, updated_at AS "updatedAt" FROM documents
        WHERE status IN ('queued', 'processing') AND updated_at < now() - make_interval(secs => $1::float8 / 1000)
          AND ($3::timestamptz IS NULL OR (updated_at, id) > ($3::timestamptz, $4::uuid))
          AND ($5::text IS NULL OR namespace = $5)
        ORDER BY updated_at, id LIMIT $2`,
      [olderThanMs, limit, page.after?.updatedAt ?? null, page.after?.id ?? null, page.namespace ?? null],
    );
  }

  /** Failed, not discarded documents (id, version, why): what the dead-letter queue must hold. */
  async deadLetterSnapshot(limit: number): Promise<DeadLetterRow[]> {
    return this.db.query(
      `SELECT id, version, namespace, attempts, last_error, last_error_class, failed_stage, updated_at
         FROM documents WHERE ${IS_DEAD_LETTER}
        ORDER BY updated_at DESC LIMIT $1`,
      [limit],
    );
  }
}

/** A document queued or processing, as the reconciler and the auditor page through them. */
export interface StaleDocument {
  id: string;
  namespace: string;
  version: number;
  status: DocumentStatus;
  updatedAt: Date;
}

/** Which page of stale documents: after a row (in updated_at, id order), of one namespace. */
export interface StalePage {
  after?: Pick<StaleDocument, 'updatedAt' | 'id'>;
  namespace?: string | null;
}

/** What embedding one document version cost. */
export interface EmbeddingUsageRecord {
  tokens: number;
  /** Characters of the texts sent to the provider. */
  characters: number;
  embeddedTexts: number;
  cachedTexts: number;
  tokensEstimated: boolean;
}

/** Why an attempt failed, as recorded on the document. */
export interface AttemptFailure {
  message: string;
  errorClass: string;
  stage: string | null;
}

/** One attempt at processing a version, as the attempt history keeps it. */
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

/** A dead letter as the reconciler compares it with the dead-letter queue. */
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
