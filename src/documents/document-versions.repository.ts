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
}

/** Characters of a text document; bytes of an uploaded file. */
function contentLength(doc: NewDocument): number {
  return doc.source?.bytes ?? doc.content.length;
}
