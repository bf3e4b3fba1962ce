import { Injectable, Logger } from '@nestjs/common';
import { DocumentsRepository } from '../../documents/documents.repository';
import { EmbedderRegistry } from '../../embedding/embedder-registry';
import { textToEmbed } from '../../ingest/chunking/chunk-context';
import { ReindexDocumentPayload } from '../../ingest/queue/ingest.jobs';
import { JobTries } from '../../ingest/worker/queue-worker.host';
import { jobFailure } from '../../ingest/worker/job-failure';
import { ChunkRepository } from '../../vector-store/chunk.repository';
import { GenerationChangedError, NOT_READY_COPY } from '../../vector-store/generations/generation';
import { GenerationRepository } from '../../vector-store/generations/generation.repository';
import { GenerationWriter } from '../../vector-store/generations/generation-writer';
import { ReindexCoverage } from '../../vector-store/generations/reindex-coverage.repository';

export type ReembedOutcome = 'reindexed' | 'stale';

/**
 * Copies one document into the building generation: embeds the chunks it has in the
 * active generation with the building generation's model (the texts are copied, not
 * split again, so both generations hold the same chunks) and writes them through
 * `GenerationWriter`, only while the document is still at that version (and as ready or
 * not as it was) and the generation still building. A document being processed again,
 * or failed after an update, keeps the chunks of its last ready version. A permanent
 * failure is recorded against the document and holds up the switch until retried.
 */
@Injectable()
export class ReembedDocument {
  private readonly logger = new Logger(ReembedDocument.name);

  constructor(
    private readonly documents: DocumentsRepository,
    private readonly chunks: ChunkRepository,
    private readonly generations: GenerationRepository,
    private readonly coverage: ReindexCoverage,
    private readonly writer: GenerationWriter,
    private readonly embedders: EmbedderRegistry,
  ) {}

  /** Throws what the queue must see: the error to retry, `UnrecoverableError` to stop. */
  async run(payload: ReindexDocumentPayload, tries: JobTries): Promise<ReembedOutcome> {
    const { generationId, documentId, version } = payload;
    const generation = await this.generations.findById(generationId);
    if (generation?.status !== 'building') return 'stale';
    const stored = await this.chunks.documentChunks(documentId, version);
    if (!stored || (stored.ready && stored.chunks.length === 0)) return 'stale';
    const { ready, chunks } = stored;
    const coveredVersion = ready ? version : NOT_READY_COPY;
    try {
      const embedder = await this.embedders.embedderFor(generation);
      const embedded = await embedder.embed(chunks.map((c) => textToEmbed(c.context, c.content)));
      return await this.documents.transaction(async (em) => {
        await this.writer.hold(em, [generation]);
        if (!(await this.documents.lockUnchanged(em, documentId, version, ready))) return 'stale';
        // Not ready: the chunks of its last ready version stay searchable, as in the active generation.
        const namespace = chunks[0]?.namespace ?? '';
        await this.writer.replace(em, { id: documentId, namespace }, coveredVersion, [
          { generation, modelId: embedder.modelId, chunks: chunks.map((c, i) => ({ ...c, embedding: embedded.vectors[i] })) },
        ]);
        await this.documents.addEmbeddingCost(em, documentId, {
          tokens: embedded.tokens,
          characters: embedded.characters,
          estimated: embedded.tokensEstimated,
        });
        return 'reindexed';
      });
    } catch (err) {
      // The re-embed was switched or cancelled meanwhile: nothing left to do.
      if (err instanceof GenerationChangedError) return 'stale';
      const failure = jobFailure(err, tries);
      this.logger.warn(
        `re-embedding ${documentId} v${version} into generation ${generationId} failed ` +
          `(${failure.errorClass}${failure.final ? ', final' : ', will retry'}): ${failure.message}`,
      );
      if (failure.final) {
        const error = `${failure.errorClass}: ${failure.message}`;
        await this.coverage
          .recordFailure(generationId, documentId, coveredVersion, error)
          .catch((e: unknown) => this.logger.error(`could not record the re-embed failure of ${documentId}: ${String(e)}`));
      }
      throw failure.rethrow;
    }
  }
}
