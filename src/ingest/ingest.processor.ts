import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Job, UnrecoverableError } from 'bullmq';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/app-config';
import { DocumentsRepository } from '../documents/documents.repository';
import { sha256Hex } from '../documents/pipeline';
import { EMBEDDING_PROVIDER, EmbeddingProvider } from '../embedding/embedding-provider';
import { EmbeddingError } from '../embedding/embedding.errors';
import { ChunkRepository } from '../vector-store/chunk.repository';
import { INGEST_QUEUE, IngestDocumentPayload, IngestJobName } from './ingest.jobs';
import { splitText } from './text-splitter';

export type IngestOutcome = 'ready' | 'stale';

/**
 * Consumes `ingest-document` jobs: claim the version, load its text, split, embed in
 * batches, and replace the chunks in the same transaction that marks the document ready.
 * Transient errors are thrown for BullMQ to retry; errors no retry can fix are thrown
 * as `UnrecoverableError`.
 */
// autorun is off so that the configured concurrency is set before the first job is taken.
@Processor(INGEST_QUEUE, { autorun: false })
export class IngestProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger(IngestProcessor.name);

  constructor(
    private readonly documents: DocumentsRepository,
    private readonly chunks: ChunkRepository,
    @Inject(EMBEDDING_PROVIDER) private readonly embedder: EmbeddingProvider,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.config.queue.concurrency;
    this.worker.run().catch((err: unknown) => this.logger.error(`worker stopped: ${String(err)}`));
  }

  async process(job: Job<IngestDocumentPayload, void, IngestJobName>): Promise<IngestOutcome> {
    const { documentId, version } = job.data;
    try {
      return await this.ingest(documentId, version);
    } catch (err) {
      const unrecoverable = err instanceof UnrecoverableError;
      const final = unrecoverable || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      await this.documents
        .markAttemptFailed(documentId, version, errorMessage(err), final)
        .catch((e: unknown) => this.logger.error(`could not record failure of ${documentId}: ${String(e)}`));
      throw err;
    }
  }

  private async ingest(documentId: string, version: number): Promise<IngestOutcome> {
    const doc = await this.documents.claim(documentId, version);
    if (!doc) return 'stale';
    const text = await this.documents.loadContent(documentId, version);
    if (text === null) return 'stale';

    const pieces = splitText(text, { size: doc.pipeline.chunkSize, overlap: doc.pipeline.chunkOverlap });
    if (pieces.length === 0) throw new UnrecoverableError('document has no text to index');
    const vectors = await this.embedAll(pieces.map((p) => p.content));

    const written = await this.documents.transaction(async (em) => {
      if (!(await this.documents.lockProcessing(em, documentId, version))) return false;
      await this.chunks.replaceChunks(
        em,
        documentId,
        doc.namespace,
        this.embedder.modelId,
        pieces.map((p, i) => ({
          index: p.index,
          content: p.content,
          contentSha256: sha256Hex(p.content),
          metadata: doc.metadata,
          embedding: vectors[i],
        })),
      );
      await this.documents.markReady(em, documentId, version, pieces.length);
      return true;
    });
    return written ? 'ready' : 'stale';
  }

  private async embedAll(texts: string[]): Promise<number[][]> {
    const batch = this.config.embedding.batchSize;
    const out: number[][] = [];
    for (let i = 0; i < texts.length; i += batch) {
      const slice = texts.slice(i, i + batch);
      let vectors: number[][];
      try {
        vectors = await this.embedder.embed(slice);
      } catch (err) {
        if (err instanceof EmbeddingError && !err.transient) throw new UnrecoverableError(err.message);
        throw err;
      }
      if (vectors.length !== slice.length || vectors.some((v) => v.length !== this.embedder.dimension)) {
        throw new UnrecoverableError(
          `embedding provider ${this.embedder.modelId} returned vectors of the wrong count or dimension`,
        );
      }
      out.push(...vectors);
    }
    return out;
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
