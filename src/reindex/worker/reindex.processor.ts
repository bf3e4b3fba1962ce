import { Processor, WorkerHost } from '@nestjs/bullmq';
import { BeforeApplicationShutdown, Inject, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { DelayedError, Job, UnrecoverableError } from 'bullmq';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { DocumentsRepository } from '../../documents/documents.repository';
import { ChunkRepository } from '../../vector-store/chunk.repository';
import { BUILDING_CHUNKS, GenerationsRepository, NOT_READY_COPY } from '../../vector-store/generations.repository';
import { textToEmbed } from '../../ingest/chunking/chunk-context';
import { GenerationEmbedders } from '../../ingest/worker/generation-embedders';
import { classifyError } from '../../ingest/ingest-errors';
import { IngestJobName, REINDEX_QUEUE, ReindexDocumentPayload } from '../../ingest/queue/ingest.jobs';
import { configureWorker } from '../../ingest/worker/worker-options';

export type ReindexOutcome = 'reindexed' | 'stale';

/**
 * Consumes `reindex-document` jobs: embeds the chunks a document has in the active
 * generation with the building generation's model, and writes them to `chunks_next`,
 * checking in the same transaction that the document is still at that version (and as
 * ready or not as it was) and the generation still building. A document being
 * processed again, or failed after an update, keeps the chunks of its last ready version. The chunk texts are copied, not split again, so both
 * generations hold the same chunks. Transient errors retry with backoff; a permanent one
 * is recorded against the document and holds the switch until it is retried.
 */
@Processor(REINDEX_QUEUE, { autorun: false })
export class ReindexProcessor extends WorkerHost implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger(ReindexProcessor.name);
  private closing?: Promise<void>;

  constructor(
    private readonly documents: DocumentsRepository,
    private readonly chunks: ChunkRepository,
    private readonly generations: GenerationsRepository,
    private readonly embedders: GenerationEmbedders,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    configureWorker(this.worker, this.config, this.config.reindex.concurrency);
    this.worker.run().catch((err: unknown) => this.logger.error(`reindex worker stopped: ${String(err)}`));
  }

  onModuleDestroy(): void {
    this.closing ??= this.worker.close();
  }

  /** Lets jobs in flight finish within SHUTDOWN_GRACE_MS; the rest are retried elsewhere (each is idempotent). */
  async beforeApplicationShutdown(): Promise<void> {
    this.onModuleDestroy();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.closing, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.config.queue.shutdownGraceMs)))]);
    clearTimeout(timer);
  }

  async process(job: Job<ReindexDocumentPayload, ReindexOutcome, IngestJobName>, token?: string): Promise<ReindexOutcome> {
    if (this.closing && token !== undefined) {
      await job.moveToDelayed(Date.now(), token);
      throw new DelayedError();
    }
    const { generationId, documentId, version } = job.data;
    const generation = await this.generations.findById(generationId);
    if (generation?.status !== 'building') return 'stale';
    const stored = await this.chunks.documentChunks(documentId, version);
    if (!stored || (stored.ready && stored.chunks.length === 0)) return 'stale';
    const { ready, chunks } = stored;
    try {
      const embedder = await this.embedders.forGeneration(generation);
      const embedded = await embedder.embed(chunks.map((c) => textToEmbed(c.context, c.content)));
      const written = await this.documents.transaction(async (em) => {
        if (!(await this.generations.hold(em, generationId, 'building'))) return false;
        if (!(await this.documents.lockUnchanged(em, documentId, version, ready))) return false;
        // Not ready: the chunks of its last ready version stay searchable, as in the active generation.
        await this.chunks.replaceChunks(
          em,
          BUILDING_CHUNKS,
          documentId,
          chunks[0]?.namespace ?? '',
          embedder.modelId,
          chunks.map((c, i) => ({ ...c, embedding: embedded.vectors[i] })),
        );
        await this.generations.recordCovered(em, generationId, documentId, ready ? version : NOT_READY_COPY);
        await this.documents.addEmbeddingCost(em, documentId, {
          tokens: embedded.tokens,
          characters: embedded.characters,
          estimated: embedded.tokensEstimated,
        });
        return true;
      });
      return written ? 'reindexed' : 'stale';
    } catch (err) {
      const failure = classifyError(err);
      const final = !failure.transient || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      this.logger.warn(
        `re-embedding ${documentId} v${version} into generation ${generationId} failed ` +
          `(${failure.errorClass}${final ? ', final' : ', will retry'}): ${failure.message}`,
      );
      if (final) {
        await this.generations
          .recordFailure(generationId, documentId, ready ? version : NOT_READY_COPY, `${failure.errorClass}: ${failure.message}`)
          .catch((e: unknown) => this.logger.error(`could not record the re-embed failure of ${documentId}: ${String(e)}`));
      }
      throw failure.transient ? err : new UnrecoverableError(`${failure.errorClass}: ${failure.message}`);
    }
  }
}
