import { BadRequestException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/app-config';
import { DEFAULT_NAMESPACE } from '../common/namespace';
import { EMBEDDING_PROVIDER, EmbeddingProvider } from '../embedding/embedding-provider';
import { IngestProducer } from '../ingest/ingest.producer';
import { DocumentEntity } from './document.entity';
import { DocumentsRepository, DocumentPage, NewDocument, decodeCursor } from './documents.repository';
import { CreateDocumentDto } from './dto/create-document.dto';
import { ListDocumentsQuery } from './dto/list-documents.query';
import { PipelineConfig, pipelineHash, sha256Hex } from './pipeline';

export interface SubmitResult {
  document: DocumentEntity;
  /** True when identical content was already recorded: nothing new is enqueued. */
  deduplicated: boolean;
}

/** Accepts documents (producer side) and answers questions about their state. */
@Injectable()
export class DocumentsService {
  constructor(
    private readonly documents: DocumentsRepository,
    private readonly producer: IngestProducer,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(EMBEDDING_PROVIDER) private readonly embedder: EmbeddingProvider,
  ) {}

  /**
   * Records the document (or a new version of it) and enqueues its processing after the
   * commit. Identical content under the same (namespace, externalId) and pipeline is not
   * processed again.
   */
  async submit(dto: CreateDocumentDto): Promise<SubmitResult> {
    const doc = this.toNewDocument(dto);
    const result = await this.documents.transaction(async (em): Promise<SubmitResult> => {
      const created = await this.documents.insert(em, doc);
      if (created) return { document: created, deduplicated: false };
      // externalId is set here: without one, inserts never conflict.
      const existing = await this.documents.findByExternalIdForUpdate(em, doc.namespace, doc.externalId as string);
      if (!existing) throw new Error('document vanished while being updated');
      const unchanged =
        existing.contentSha256 === doc.contentSha256 &&
        existing.pipelineHash === doc.pipelineHash &&
        existing.status !== 'failed';
      if (unchanged) return { document: existing, deduplicated: true };
      return { document: await this.documents.newVersion(em, existing, doc), deduplicated: false };
    });
    if (!result.deduplicated) {
      await this.producer.enqueue({ documentId: result.document.id, version: result.document.version });
    }
    return result;
  }

  async get(id: string): Promise<DocumentEntity> {
    const doc = await this.documents.findById(id);
    if (!doc) throw new NotFoundException(`document ${id} not found`);
    return doc;
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
    const size = dto.chunking?.size ?? this.config.chunking.size;
    const overlap = dto.chunking?.overlap ?? Math.min(this.config.chunking.overlap, Math.floor(size / 2));
    if (overlap >= size) {
      throw new BadRequestException(`chunking.overlap (${overlap}) must be smaller than chunking.size (${size})`);
    }
    const pipeline: PipelineConfig = { chunkSize: size, chunkOverlap: overlap, model: this.embedder.modelId };
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
