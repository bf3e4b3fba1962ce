import {
  BadRequestException,
  Inject,
  Injectable,
  NotFoundException,
  Optional,
  ServiceUnavailableException,
  UnprocessableEntityException,
} from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { APP_CONFIG } from '../../config/config.module';
import { AppConfig } from '../../config/app-config';
import { DEFAULT_NAMESPACE } from '../../common/namespace';
import { IngestQueue } from '../../ingest/queue/ingest.queue';
import { SPLITTER_VERSION } from '../../ingest/chunking/text-splitter';
import { DrainState } from '../../lifecycle/drain.state';
import { setLogDocument } from '../../observability/logging/log-context';
import { STATUS_EVENTS, StatusEvents } from '../../events/status-events';
import { DocumentCallbacks } from '../../webhooks/api/document-callbacks';
import { DocumentEntity } from '../document.entity';
import { DocumentPage, PageCursor, decodeCursor } from '../document-page';
import { chunkCostProblem, maxChunksFor, overlapProblem } from './chunk-cost';
import { DocumentReadsRepository, DocumentWithModel, NamespaceUsage } from '../document-reads.repository';
import { DocumentVersionsRepository, NewDocument } from '../document-versions.repository';
import { AttemptRecord } from '../documents.repository';
import { IdempotencyRepository } from '../idempotency.repository';
import { PipelineConfig, chunkingFor, pipelineHash, sha256Hex } from '../pipeline';
import { SubmitAnswer } from '../submit-answer';
import { DocumentReadStore, DocumentVersionStore, IdempotencyStore, IngestJobs } from './documents.ports';
import { CreateDocumentDto } from './dto/create-document.dto';
import { ListDocumentsQuery } from './dto/list-documents.query';

const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** Accepts documents (producer side) and answers questions about their state. */
@Injectable()
export class DocumentsService {
  constructor(
    @Inject(DocumentVersionsRepository) private readonly versions: DocumentVersionStore,
    @Inject(DocumentReadsRepository) private readonly reads: DocumentReadStore,
    @Inject(IdempotencyRepository) private readonly idempotency: IdempotencyStore,
    @Inject(IngestQueue) private readonly ingest: IngestJobs,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly drain: DrainState,
    @Optional() @Inject(STATUS_EVENTS) private readonly events?: StatusEvents,
    @Optional() private readonly callbacks?: DocumentCallbacks,
  ) {}

  /**
   * Records the document (or a new version of it) and enqueues its processing after the commit. Identical
   * content under the same (namespace, externalId) and chunking settings is not processed again (200,
   * deduplicated) unless the document failed. With an Idempotency-Key, a repeated request gets the first
   * answer, even when the copies arrive at the same moment; the same key with another body is a 422.
   * Keys are scoped to the caller (`owner`, an API key's id) and the namespace: one caller guessing another's
   * key gets its own answer, never the other's.
   */
  async submit(dto: CreateDocumentDto, idempotencyKey?: string, owner = 'open'): Promise<SubmitAnswer> {
    return this.accept(this.prepare(dto), sha256Hex(JSON.stringify(dto)), idempotencyKey, undefined, dto.callbackUrl, owner);
  }

  /**
   * Records `doc` as `submit` says, `requestSha` standing for the request under an Idempotency-Key.
   * `onRecorded` runs in the same transaction when a new document or version was recorded (not when
   * deduplicated or answered from the idempotency record); so is `callbackUrl`, checked first.
   */
  async accept(
    doc: NewDocument,
    requestSha: string,
    idempotencyKey?: string,
    onRecorded?: (em: EntityManager, document: DocumentEntity) => Promise<void>,
    callbackUrl?: string,
    owner = 'open',
  ): Promise<SubmitAnswer> {
    this.assertAccepting(idempotencyKey);
    const callback = callbackUrl === undefined || !this.callbacks ? null : await this.callbacks.check(callbackUrl);
    const { answer, enqueue } = await this.versions.transaction(async (em) => {
      if (idempotencyKey !== undefined) {
        const prior = await this.idempotency.lockAndRecall(em, scopedIdempotencyKey(owner, doc.namespace, idempotencyKey));
        if (prior) {
          if (prior.requestSha256 !== requestSha) {
            throw new UnprocessableEntityException('Idempotency-Key was already used with a different request body');
          }
          return { answer: prior.answer, enqueue: false };
        }
      }
      const { document, deduplicated } = await this.record(em, doc);
      if (!deduplicated) {
        await this.callbacks?.record(em, document.id, callback);
        if (onRecorded) await onRecorded(em, document);
      }
      const answer: SubmitAnswer = {
        statusCode: deduplicated ? 200 : 202,
        body: { id: document.id, status: document.status, version: document.version, deduplicated, statusUrl: `/v1/documents/${document.id}` },
      };
      if (idempotencyKey !== undefined) {
        await this.idempotency.remember(em, scopedIdempotencyKey(owner, doc.namespace, idempotencyKey), requestSha, answer);
      }
      return { answer, enqueue: !deduplicated };
    });
    if (enqueue) {
      // Announced before the job exists, so no worker's `processing` can overtake it.
      await this.events?.publish({ documentId: answer.body.id, namespace: doc.namespace, version: answer.body.version, status: 'queued' });
      await this.ingest.enqueue({ documentId: answer.body.id, version: answer.body.version });
    }
    return answer;
  }

  /** 503 while the process shuts down; 400 for a malformed Idempotency-Key. */
  assertAccepting(idempotencyKey: string | undefined): void {
    if (this.drain.draining) throw new ServiceUnavailableException('shutting down: send the document to another replica');
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY_PATTERN.test(idempotencyKey)) {
      throw new BadRequestException('Idempotency-Key must be 1-255 visible ASCII characters');
    }
  }

  /**
   * Records `doc` in the caller's transaction: a new document, a new version of the one under its
   * (namespace, externalId), or that one unchanged (`deduplicated`, nothing to process).
   */
  async record(em: EntityManager, doc: NewDocument): Promise<{ document: DocumentEntity; deduplicated: boolean }> {
    const created = await this.versions.insert(em, doc);
    if (created) return { document: created, deduplicated: false };
    // externalId is set here: without one, inserts never conflict.
    const existing = await this.versions.findByExternalIdForUpdate(em, doc.namespace, doc.externalId as string);
    if (!existing) throw new Error('document vanished while being updated');
    if (isUnchanged(existing, doc)) return { document: existing, deduplicated: true };
    return { document: await this.versions.newVersion(em, existing, doc), deduplicated: false };
  }

  /** The document with the model of its vectors and its most recent attempts (oldest first); 404 if unknown. */
  async getWithHistory(id: string): Promise<DocumentWithModel & { history: AttemptRecord[] }> {
    const found = await this.reads.findWithModel(id);
    if (!found) throw new NotFoundException(`document ${id} not found`);
    setLogDocument(found.document.id, found.document.version);
    return { ...found, history: await this.reads.attemptHistory(id, 20) };
  }

  /** Embedding cost and size of a namespace. */
  usage(namespace: string): Promise<NamespaceUsage> {
    return this.reads.usage(namespace);
  }

  /** A page of documents, newest first; 400 for a cursor this service did not hand out. */
  list(query: ListDocumentsQuery, namespaces?: string[]): Promise<DocumentPage<DocumentWithModel>> {
    let cursor: PageCursor | undefined;
    if (query.cursor !== undefined) {
      const decoded = decodeCursor(query.cursor);
      if (!decoded) throw new BadRequestException('cursor is not valid: pass the nextCursor of a previous page');
      cursor = decoded;
    }
    return this.reads.list({ namespace: query.namespace, namespaces, status: query.status, limit: query.limit ?? 20, cursor });
  }

  /** Processes the current text again under a new version. */
  async reprocess(id: string): Promise<DocumentEntity> {
    const doc = await this.versions.requeue(id);
    if (!doc) throw new NotFoundException(`document ${id} not found`);
    await this.events?.publish({ documentId: doc.id, namespace: doc.namespace, version: doc.version, status: 'queued' });
    await this.ingest.enqueue({ documentId: doc.id, version: doc.version });
    return doc;
  }

  /** Removes the document named by its external id, as `delete`; 404 if there is none. */
  async deleteByExternalId(namespace: string | undefined, externalId: string): Promise<void> {
    const ns = namespace ?? DEFAULT_NAMESPACE;
    if ((await this.versions.deleteByExternalId(ns, externalId)) === null) {
      throw new NotFoundException(`no document with externalId ${JSON.stringify(externalId)} in namespace ${ns}`);
    }
  }

  /** Removes the document and its chunks; a job still running for it ends without writing. */
  async delete(id: string): Promise<void> {
    if (!(await this.versions.delete(id))) throw new NotFoundException(`document ${id} not found`);
  }

  /** The document `dto` describes, with this process's chunking settings; 400 for settings that cannot work. */
  prepare(dto: CreateDocumentDto): NewDocument {
    const chunking = chunkingFor(this.config.chunking, dto.chunking);
    if (chunking.chunkOverlap >= chunking.chunkSize) {
      throw new BadRequestException(`chunking.overlap (${chunking.chunkOverlap}) must be smaller than chunking.size (${chunking.chunkSize})`);
    }
    const costProblem =
      (dto.chunking ? overlapProblem(chunking.chunkSize, chunking.chunkOverlap) : null) ??
      chunkCostProblem(chunking, dto.content.length, maxChunksFor(this.config, dto.content.length));
    if (costProblem) throw new BadRequestException(costProblem);
    // No model: the workers embed with the active generation's, which this process cannot vouch for.
    const pipeline: PipelineConfig = { ...chunking, contextual: this.config.chunking.contextual, splitter: SPLITTER_VERSION };
    return {
      namespace: dto.namespace ?? DEFAULT_NAMESPACE,
      externalId: dto.externalId ?? null,
      title: dto.title ?? null,
      metadata: dto.metadata ?? {},
      content: dto.content,
      contentSha256: sha256Hex(dto.content),
      pipeline,
      pipelineHash: pipelineHash(pipeline),
    };
  }
}

/** True when posting `doc` over `existing` changes nothing to process (the answer is `deduplicated`). */
export function isUnchanged(existing: Pick<DocumentEntity, 'contentSha256' | 'source' | 'pipeline' | 'status'>, doc: NewDocument): boolean {
  // The stored pipeline is hashed again rather than its stored pipeline_hash compared: rows stored before the
  // model left the pipeline hashed the model in, and the same model-free function makes them match the same
  // settings posted today, without a migration rewriting every row and without reprocessing them all.
  return (
    existing.contentSha256 === doc.contentSha256 &&
    existing.source?.sha256 === doc.source?.sha256 &&
    pipelineHash(existing.pipeline) === doc.pipelineHash &&
    existing.status !== 'failed'
  );
}

/** The stored form of an Idempotency-Key: owner and namespace first, so keys never collide across callers. */
export function scopedIdempotencyKey(owner: string, namespace: string, key: string): string {
  return `${owner}/${namespace}/${key}`;
}
