import {
  BadRequestException,
  Inject,
  Injectable,
  NotFoundException,
  ServiceUnavailableException,
  UnprocessableEntityException,
} from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { APP_CONFIG } from '../../config/config.module';
import { AppConfig } from '../../config/app-config';
import { DEFAULT_NAMESPACE } from '../../common/namespace';
import { EMBEDDING_PROVIDER, EmbeddingProvider } from '../../embedding/embedding-provider';
import { IngestProducer } from '../../ingest/queue/ingest.producer';
import { SPLITTER_VERSION } from '../../ingest/chunking/text-splitter';
import { DrainState } from '../../lifecycle/drain.state';
import { DocumentEntity } from '../document.entity';
import { AttemptRecord, DocumentsRepository, DocumentPage, NamespaceUsage, NewDocument, decodeCursor } from '../documents.repository';
import { CreateDocumentDto } from './dto/create-document.dto';
import { ListDocumentsQuery } from './dto/list-documents.query';
import { PipelineConfig, chunkingFor, pipelineHash, sha256Hex } from '../pipeline';

/** The answer to a POST /v1/documents, as stored for Idempotency-Key replays. */
export interface SubmitAnswer {
  statusCode: 200 | 202;
  body: { id: string; status: string; version: number; deduplicated: boolean; statusUrl: string };
}

const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** Accepts documents (producer side) and answers questions about their state. */
@Injectable()
export class DocumentsService {
  constructor(
    private readonly documents: DocumentsRepository,
    private readonly producer: IngestProducer,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(EMBEDDING_PROVIDER) private readonly embedder: EmbeddingProvider,
    private readonly drain: DrainState,
  ) {}

  /**
   * Records the document (or a new version of it) and enqueues its processing after the
   * commit. Identical content under the same (namespace, externalId) and pipeline is not
   * processed again (200, deduplicated). With an Idempotency-Key, a repeated request gets
   * the first answer, even when the copies arrive at the same moment.
   */
  async submit(dto: CreateDocumentDto, idempotencyKey?: string): Promise<SubmitAnswer> {
    if (this.drain.draining) throw new ServiceUnavailableException('shutting down: send the document to another replica');
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY_PATTERN.test(idempotencyKey)) {
      throw new BadRequestException('Idempotency-Key must be 1-255 visible ASCII characters');
    }
    const doc = this.toNewDocument(dto);
    const requestSha = sha256Hex(JSON.stringify(dto));
    const { answer, enqueue } = await this.documents.transaction(async (em) => {
      if (idempotencyKey !== undefined) {
        // Serialises requests with the same key; the lock ends with the transaction.
        await em.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 7))', [idempotencyKey]);
        const prior: Array<{ request_sha256: string; status_code: 200 | 202; response: SubmitAnswer['body'] }> = await em.query(
          'SELECT request_sha256, status_code, response FROM idempotency_keys WHERE key = $1',
          [idempotencyKey],
        );
        if (prior.length > 0) {
          if (prior[0].request_sha256 !== requestSha) {
            throw new UnprocessableEntityException('Idempotency-Key was already used with a different request body');
          }
          return { answer: { statusCode: prior[0].status_code, body: prior[0].response }, enqueue: false };
        }
      }
      const { document, deduplicated } = await this.record(em, doc);
      const answer: SubmitAnswer = {
        statusCode: deduplicated ? 200 : 202,
        body: { id: document.id, status: document.status, version: document.version, deduplicated, statusUrl: `/v1/documents/${document.id}` },
      };
      if (idempotencyKey !== undefined) {
        await em.query('INSERT INTO idempotency_keys (key, request_sha256, status_code, response) VALUES ($1, $2, $3, $4)', [
          idempotencyKey,
          requestSha,
          answer.statusCode,
          answer.body,
        ]);
      }
      return { answer, enqueue: !deduplicated };
    });
    if (enqueue) await this.producer.enqueue({ documentId: answer.body.id, version: answer.body.version });
    return answer;
  }

  private async record(em: EntityManager, doc: NewDocument): Promise<{ document: DocumentEntity; deduplicated: boolean }> {
    const created = await this.documents.insert(em, doc);
    if (created) return { document: created, deduplicated: false };
    // externalId is set here: without one, inserts never conflict.
    const existing = await this.documents.findByExternalIdForUpdate(em, doc.namespace, doc.externalId as string);
    if (!existing) throw new Error('document vanished while being updated');
    const unchanged =
      existing.contentSha256 === doc.contentSha256 && existing.pipelineHash === doc.pipelineHash && existing.status !== 'failed';
    if (unchanged) return { document: existing, deduplicated: true };
    return { document: await this.documents.newVersion(em, existing, doc), deduplicated: false };
  }

  async get(id: string): Promise<DocumentEntity> {
    const doc = await this.documents.findById(id);
    if (!doc) throw new NotFoundException(`document ${id} not found`);
    return doc;
  }

  async getWithHistory(id: string): Promise<{ document: DocumentEntity; history: AttemptRecord[] }> {
    const document = await this.get(id);
    return { document, history: await this.documents.attemptHistory(id, 20) };
  }

  /** Embedding cost and size of a namespace. */
  usage(namespace: string): Promise<NamespaceUsage> {
    return this.documents.usage(namespace);
  }

  list(query: ListDocumentsQuery): Promise<DocumentPage> {
    let cursor: { createdAt: string; id: string } | undefined;
    if (query.cursor !== undefined) {
      const decoded = decodeCursor(query.cursor);
      if (!decoded) throw new BadRequestException('cursor is not valid: pass the nextCursor of a previous page');
      cursor = decoded;
    }
    return this.documents.list({ namespace: query.namespace, status: query.status, limit: query.limit ?? 20, cursor });
  }

  /** Processes the current text again under a new version. */
  async reprocess(id: string): Promise<DocumentEntity> {
    const doc = await this.documents.requeue(id);
    if (!doc) throw new NotFoundException(`document ${id} not found`);
    await this.producer.enqueue({ documentId: doc.id, version: doc.version });
    return doc;
  }

  /** Removes the document and its chunks; a job still running for it ends without writing. */
  async delete(id: string): Promise<void> {
    if (!(await this.documents.delete(id))) throw new NotFoundException(`document ${id} not found`);
  }

  private toNewDocument(dto: CreateDocumentDto): NewDocument {
    const chunking = chunkingFor(this.config.chunking, dto.chunking);
    if (chunking.chunkOverlap >= chunking.chunkSize) {
      throw new BadRequestException(`chunking.overlap (${chunking.chunkOverlap}) must be smaller than chunking.size (${chunking.chunkSize})`);
    }
    const pipeline: PipelineConfig = {
      ...chunking,
      model: this.embedder.modelId,
      contextual: this.config.chunking.contextual,
      splitter: SPLITTER_VERSION,
    };
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
