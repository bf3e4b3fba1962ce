import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { DocumentEntity } from './document.entity';
import { DocumentSource } from './document-source';
import { queueNextVersion } from './document-state.sql';
import { PipelineConfig } from './pipeline';

/** A submitted document as the API records it. */
export interface NewDocument {
  namespace: string;
  externalId: string | null;
  title: string | null;
  metadata: Record<string, unknown>;
  content: string;
  contentSha256: string;
  pipeline: PipelineConfig;
  pipelineHash: string;
  /** Set for an uploaded file, whose text the worker extracts (`content` is then empty). */
  source?: DocumentSource;
}

/** What deciding whether a post changes a stored document needs of it. */
export type StoredVersion = Pick<DocumentEntity, 'id' | 'version' | 'status' | 'contentSha256' | 'pipeline' | 'source'>;

/**
 * A document's versions as the API drives them: the first, the next on a changed submission, a reprocess of
 * the same text, and deletion. A new version is queued with fresh attempts; the caller enqueues its job once
 * the change has committed.
 */
@Injectable()
export class DocumentVersionsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  transaction<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  /** Inserts a new document at version 1 with its text; null if (namespace, externalId) already exists. */
  async insert(em: EntityManager, doc: NewDocument): Promise<DocumentEntity | null> {
    // One statement, so the text is stored at the version the row starts with, whatever that default is.
    const rows: Array<{ id: string }> = await em.query(
      `WITH created AS (
         INSERT INTO documents (namespace, external_id, title, metadata, content_sha256, content_length, pipeline, pipeline_hash, status, source)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', $10)
         ON CONFLICT DO NOTHING
         RETURNING id, version
       ), stored AS (
         INSERT INTO document_contents (document_id, version, content) SELECT id, version, $9::text FROM created
       )
       SELECT id FROM created`,
      [doc.namespace, doc.externalId, doc.title, doc.metadata, doc.contentSha256, contentLength(doc), doc.pipeline, doc.pipelineHash, doc.content, doc.source ?? null],
    );
    if (rows.length === 0) return null;
    return em.findOneByOrFail(DocumentEntity, { id: rows[0].id });
  }

  /**
   * Takes a transaction-scoped lock on each (namespace, externalId) key, in the order given, so writers that
   * touch several documents (batches) wait for each other instead of deadlocking.
   */
  async lockKeys(em: EntityManager, keys: Array<{ namespace: string; externalId: string }>): Promise<void> {
    if (keys.length === 0) return;
    await em.query(
      `SELECT pg_advisory_xact_lock(hashtextextended(k.namespace || chr(31) || k.external_id, 11))
         FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(namespace, external_id, ord) ORDER BY k.ord`,
      [keys.map((k) => k.namespace), keys.map((k) => k.externalId)],
    );
  }

  /**
   * Inserts many new documents at version 1 with one statement, in the order given (callers sort by
   * (namespace, externalId) so concurrent writers lock rows in one order). Returns the version of each one
   * created, by the id it was given; a document whose (namespace, externalId) exists is skipped (the caller
   * records it as a new version). Ids are chosen here so each row maps back to its document.
   */
  async insertMany(em: EntityManager, docs: Array<NewDocument & { id: string }>): Promise<Map<string, number>> {
    if (docs.length === 0) return new Map();
    const rows: Array<{ id: string; version: number }> = await em.query(
      `WITH input AS (
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::text[], $7::int[], $8::jsonb[], $9::text[], $10::text[])
           WITH ORDINALITY AS u(id, namespace, external_id, title, metadata, content_sha256, content_length, pipeline, pipeline_hash, content, ord)
       ), created AS (
         INSERT INTO documents (id, namespace, external_id, title, metadata, content_sha256, content_length, pipeline, pipeline_hash, status)
         SELECT id, namespace, external_id, title, metadata, content_sha256, content_length, pipeline, pipeline_hash, 'queued' FROM input ORDER BY ord
         ON CONFLICT DO NOTHING
         RETURNING id, version
       ), stored AS (
         INSERT INTO document_contents (document_id, version, content) SELECT c.id, c.version, i.content FROM created c JOIN input i USING (id)
       )
       SELECT id, version FROM created`,
      [
        docs.map((d) => d.id),
        docs.map((d) => d.namespace),
        docs.map((d) => d.externalId),
        docs.map((d) => d.title),
        docs.map((d) => JSON.stringify(d.metadata)),
        docs.map((d) => d.contentSha256),
        docs.map((d) => d.content.length),
        docs.map((d) => JSON.stringify(d.pipeline)),
        docs.map((d) => d.pipelineHash),
        docs.map((d) => d.content),
      ],
    );
    return new Map(rows.map((r) => [r.id, r.version]));
  }

  /**
   * The documents stored under the given keys, read without locks (the answer may be overtaken
   * by a change committing meanwhile), keyed `namespace \u0000 externalId`.
   */
  async findByExternalIds(keys: Array<{ namespace: string; externalId: string }>): Promise<Map<string, StoredVersion>> {
    if (keys.length === 0) return new Map();
    const rows: Array<StoredVersion & { namespace: string; externalId: string }> = await this.db.query(
      `SELECT d.id, d.namespace, d.external_id AS "externalId", d.version, d.status, d.content_sha256 AS "contentSha256", d.pipeline, d.source
         FROM documents d JOIN unnest($1::text[], $2::text[]) AS k(namespace, external_id) USING (namespace, external_id)`,
      [keys.map((k) => k.namespace), keys.map((k) => k.externalId)],
    );
    return new Map(rows.map(({ namespace, externalId, ...v }) => [`${namespace}\u0000${externalId}`, v]));
  }

  /** The status of each of the documents `ids` that exists, by id. */
  async statusesOf(em: EntityManager, ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows: Array<{ id: string; status: string }> = await em.query(`SELECT id, status FROM documents WHERE id = ANY($1::uuid[])`, [ids]);
    return new Map(rows.map((r) => [r.id, r.status]));
  }

  /** The document under (namespace, externalId), locked until the transaction ends; null if there is none. */
  findByExternalIdForUpdate(em: EntityManager, namespace: string, externalId: string): Promise<DocumentEntity | null> {
    return em
      .createQueryBuilder(DocumentEntity, 'd')
      .setLock('pessimistic_write')
      .where('d.namespace = :namespace AND d.external_id = :externalId', { namespace, externalId })
      .getOne();
  }

  /** Replaces a document's text and settings with a new version, queued for processing. */
  async newVersion(em: EntityManager, existing: DocumentEntity, doc: NewDocument): Promise<DocumentEntity> {
    await queueNextVersion(em, {
      where: 'id = $1',
      set: 'title = $2, metadata = $3, content_sha256 = $4, content_length = $5, pipeline = $6, pipeline_hash = $7, source = $9',
      content: '$8',
      params: [existing.id, doc.title, doc.metadata, doc.contentSha256, contentLength(doc), doc.pipeline, doc.pipelineHash, doc.content, doc.source ?? null],
    });
    // Text replacing an uploaded file: the file's bytes are no longer the document's.
    if (existing.source && !doc.source) await em.query(`DELETE FROM file_blobs WHERE document_id = $1`, [existing.id]);
    return em.findOneByOrFail(DocumentEntity, { id: existing.id });
  }

  /** Queues the current text again under a new version (reprocess). Null if not found. */
  async requeue(id: string): Promise<DocumentEntity | null> {
    return this.db.transaction(async (em) => {
      const moved = await queueNextVersion(em, { where: 'id = $1', params: [id] });
      return moved.length === 0 ? null : em.findOneByOrFail(DocumentEntity, { id });
    });
  }

  /** Removes the document, its text and its chunks. False if there was no such document. */
  async delete(id: string): Promise<boolean> {
    const result = await this.db.getRepository(DocumentEntity).delete({ id });
    return (result.affected ?? 0) > 0;
  }

  /** Removes the document named by (namespace, externalId), as `delete`. Its id, or null if there is none. */
  async deleteByExternalId(namespace: string, externalId: string): Promise<string | null> {
    // Through a CTE: TypeORM answers a bare DELETE with [rows, count], a SELECT with its rows.
    const rows: Array<{ id: string }> = await this.db.query(
      'WITH gone AS (DELETE FROM documents WHERE namespace = $1 AND external_id = $2 RETURNING id) SELECT id FROM gone',
      [namespace, externalId],
    );
    return rows.length > 0 ? rows[0].id : null;
  }

  /** Whether document `id` exists. */
  async exists(id: string): Promise<boolean> {
    return (await this.db.query('SELECT 1 FROM documents WHERE id = $1', [id])).length > 0;
  }
}

/** Characters of a text document; bytes of an uploaded file. */
function contentLength(doc: NewDocument): number {
  return doc.source?.bytes ?? doc.content.length;
}
