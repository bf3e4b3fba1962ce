import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { AttemptRecord, ClaimedDocument, DocumentsRepository } from '../../documents/documents.repository';
import { CachedEmbedding } from '../../embedding/cached-embedder';
import { EmbedderRegistry } from '../../embedding/embedder-registry';
import { ExtractedText } from '../../extraction/extracted-text';
import { StatusEvent } from '../../events/status-event';
import { STATUS_EVENTS, StatusEvents } from '../../events/status-events';
import { chunksWritten } from '../../observability/metrics/service-metrics';
import { Generation, GenerationChangedError, chunkTableOf } from '../../vector-store/generations/generation';
import { GenerationWriter } from '../../vector-store/generations/generation-writer';
import { LiveGenerations } from '../../vector-store/generations/live-generations';
import { retryOnGenerationChange } from '../../vector-store/generations/retry-on-generation-change';
import { textToEmbed } from '../chunking/chunk-context';
import { draftChunks } from '../chunking/chunk-drafts';
import { PermanentIngestError, isDocumentGone } from '../ingest-errors';
import { EmbedSlicePayload, IngestDocumentPayload, PublishSlicesPayload } from '../queue/ingest.jobs';
import { FailureRecorder } from '../worker/failure-recorder';
import { jobFailure } from '../worker/job-failure';
import { stage } from '../worker/pipeline-stage';
import { JobTries } from '../worker/queue-worker.host';
import { SliceFlows } from './slice-flows';
import { SliceRepository, SliceRun, StagedChunk } from './slice.repository';

export type SliceOutcome = 'sliced' | 'embedded' | 'ready' | 'stale';

/**
 * Large documents, embedded in parallel by every worker. The ingest job splits the text
 * as for any document, stages the chunks in Postgres (never in Redis) and adds a BullMQ
 * flow: one `embed-slice` child per range of chunk indexes, and a `publish-slices`
 * parent that runs when they are all done. The children store their vectors next to the
 * staged chunks; the parent moves every chunk into search and marks the document ready in
 * one transaction, so a search sees all of the new version or none of it (the previous
 * version's chunks stay searchable meanwhile, as for any update).
 *
 * A slice that fails is retried alone (its own attempts); one that fails for good fails the
 * document (a retry is a new version, split again: the slices embedded before are answered
 * by the embedding cache). If Redis loses the flow, the reconciler's re-enqueued ingest job
 * finds the staged run and adds a new flow for the pending slices only.
 */
@Injectable()
export class SlicedIngest {
  private readonly logger = new Logger(SlicedIngest.name);

  constructor(
    private readonly slices: SliceRepository,
    private readonly flows: SliceFlows,
    private readonly documents: DocumentsRepository,
    private readonly embedders: EmbedderRegistry,
    private readonly generations: LiveGenerations,
    private readonly writer: GenerationWriter,
    private readonly failures: FailureRecorder,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() @Inject(STATUS_EVENTS) private readonly events: StatusEvents = { publish: async () => undefined },
  ) {}

  /** Whether a document with this much text is embedded in slices (SLICE_THRESHOLD_CHARS). */
  wants(textLength: number): boolean {
    return textLength > this.config.slices.thresholdChars;
  }

  private announce(doc: { documentId: string; namespace: string; version: number }, change: Omit<StatusEvent, 'documentId' | 'namespace' | 'version' | 'at'>): Promise<void> {
    return this.events.publish({ documentId: doc.documentId, namespace: doc.namespace, version: doc.version, ...change });
  }

  /**
   * From the ingest job, with the claimed document's text: splits it, stages the chunks
   * and adds the flow. 'stale' when the document moved on meanwhile (nothing staged).
   */
  async fanOut(doc: ClaimedDocument, extracted: ExtractedText, requestId?: string): Promise<'sliced' | 'stale'> {
    await this.announce({ documentId: doc.id, namespace: doc.namespace, version: doc.version }, { status: 'processing', stage: 'split' });
    const run = await stage('split', async () => {
      const drafts = draftChunks(doc, extracted.text, extracted.pageStarts, this.config.slices.maxChunks);
      if (drafts.length === 0) throw new PermanentIngestError('no_text', 'document has no text to index');
      return this.slices.stage(doc, drafts, this.config.slices.chunksPerSlice);
    });
    if (!run) return 'stale';
    await stage('embed', () => this.flows.start(run, Array.from({ length: run.slicesTotal }, (_, i) => i), requestId));
    this.logger.log(`document ${doc.id} v${doc.version}: ${run.chunksTotal} chunks in ${run.slicesTotal} slices`);
    await this.announce(run, { status: 'processing', stage: 'embed', chunksEmbedded: 0, chunksTotal: run.chunksTotal });
    return 'sliced';
  }

  /**
   * From an ingest job of a version already staged (re-enqueued by the reconciler, or
   * retried after the flow could not be added): nothing to do while its flow is in Redis;
   * else the document is claimed again and a new flow added for the slices not yet embedded.
   * Null when the version has no staged run (the ingest job starts from the text).
   */
  async resume(payload: IngestDocumentPayload): Promise<'sliced' | 'stale' | null> {
    const staged = await this.slices.runOf(payload.documentId, payload.version);
    if (!staged) return null;
    if (await this.flows.isLive(staged)) return 'sliced';
    const doc = await this.documents.claim(payload.documentId, payload.version);
    if (!doc) return 'stale';
    const run = await this.slices.nextRun(doc.id, doc.version, doc.attempts);
    if (!run) return null;
    const pending = await this.slices.pendingSlices(doc.id);
    await this.flows.start(run, pending, payload.requestId);
    this.logger.warn(`document ${doc.id} v${doc.version}: slice flow re-created (run ${run.run}, ${pending.length} of ${run.slicesTotal} slices pending)`);
    return 'sliced';
  }

  /** An `embed-slice` job: embeds the slice's staged chunks with the active generation's model and stores the vectors. */
  async embedSlice(payload: EmbedSlicePayload, tries: JobTries): Promise<SliceOutcome> {
    const run = await this.slices.liveRun(payload.documentId, payload.version);
    if (!run) return 'stale';
    return this.failingDocument(payload, run, tries, async () => {
      const slice = await stage('load', () => this.slices.loadSlice(payload.documentId, payload.version, payload.slice));
      if (!slice) return 'stale';
      if (slice.embedded) return 'embedded';
      const active = (await this.generations.current()).active;
      const embedded = await stage('embed', () => this.embed(active, slice.chunks));
      const progress = await stage('write', () =>
        this.slices.storeSlice(payload.documentId, payload.version, slice, { generationId: active.id, modelId: embedded.modelId, vectors: embedded.usage.vectors, usage: usageOf(embedded.usage) }),
      );
      if (!progress) return 'stale';
      await this.announce(run, { status: 'processing', stage: 'embed', ...progress });
      return 'embedded';
    });
  }

  /**
   * The `publish-slices` job, once every slice ran: embeds what a generation switch left
   * behind, then in one transaction replaces the document's searchable chunks with the
   * staged ones and marks it ready.
   */
  async publish(payload: PublishSlicesPayload, tries: JobTries): Promise<SliceOutcome> {
    const startedAt = new Date();
    const run = await this.slices.liveRun(payload.documentId, payload.version);
    if (!run) {
      await this.slices.discardIfStale(payload.documentId, payload.version);
      return 'stale';
    }
    return this.failingDocument(payload, run, tries, async () => {
      const ready: AttemptRecord = {
        documentId: run.documentId, version: run.version, attempt: run.attempt, startedAt, outcome: 'ready', stage: null, errorClass: null, message: null,
      };
      const published = await retryOnGenerationChange(async () => {
        const active = (await this.generations.current()).active;
        await stage('embed', () => this.embedRemaining(run, active));
        return stage('write', () => this.write(run, active, ready));
      }, () => this.generations.invalidate());
      if (published === null) return 'stale';
      chunksWritten.inc(published);
      await this.announce(run, { status: 'ready', chunkCount: published });
      return 'ready';
    });
  }

  private async write(run: SliceRun, active: Generation, ready: AttemptRecord): Promise<number | null> {
    return this.documents.transaction(async (em) => {
      await this.writer.hold(em, [active]);
      if (!(await this.documents.lockProcessing(em, run.documentId, run.version))) return null;
      const published = await this.slices.publish(em, run.documentId, chunkTableOf(active), active.id);
      // A switch landed between embedding the rest and holding the generation: embed again.
      if (!published) throw new GenerationChangedError(active.id);
      await this.documents.markReady(em, run.documentId, run.version, published.chunkCount, published.usage);
      await this.documents.recordAttempt(ready, em);
      return published.chunkCount;
    });
  }

  /** Staged chunks without a vector of `active` (a re-embed switched during the fan-out), embedded a slice at a time. */
  private async embedRemaining(run: SliceRun, active: Generation): Promise<void> {
    const page = this.config.slices.chunksPerSlice;
    for (let from = 0; from < run.chunksTotal; from += page) {
      const chunks = await this.slices.chunksNotEmbeddedFor(run.documentId, active.id, from, page);
      if (chunks.length === 0) continue;
      const embedded = await this.embed(active, chunks);
      await this.slices.storeVectors(run.documentId, active.id, embedded.modelId, chunks.map((c) => c.index), embedded.usage.vectors);
    }
  }

  private async embed(generation: Generation, chunks: StagedChunk[]): Promise<{ modelId: string; usage: CachedEmbedding }> {
    const embedder = await this.embedders.embedderFor(generation);
    const usage = await embedder.embed(chunks.map((c) => textToEmbed(c.context, c.content)));
    return { modelId: embedder.modelId, usage };
  }

  /**
   * Runs a slice or publish job's work. A failure that will be retried leaves the document
   * processing (the other slices carry on); a final one fails the document, recorded as
   * any ingest failure is (history, dead letter), under the attempt that split it.
   */
  private async failingDocument(payload: IngestDocumentPayload, run: SliceRun, tries: JobTries, work: () => Promise<SliceOutcome>): Promise<SliceOutcome> {
    const startedAt = new Date();
    try {
      return await work();
    } catch (err) {
      if (isDocumentGone(err)) return 'stale';
      const failure = jobFailure(err, tries);
      if (failure.final) {
        const original = { documentId: payload.documentId, version: payload.version, requestId: payload.requestId };
        await this.failures.record({ payload: original, namespace: run.namespace, attempt: run.attempt, startedAt }, failure);
      } else {
        this.logger.warn(`document ${payload.documentId} v${payload.version}: ${describe(payload)} failed at ${failure.stage ?? '?'}, will retry: ${failure.message}`);
      }
      throw failure.rethrow;
    }
  }
}

function describe(payload: IngestDocumentPayload): string {
  const slice = (payload as Partial<EmbedSlicePayload>).slice;
  return slice === undefined ? 'publishing its slices' : `slice ${slice}`;
}

function usageOf(u: CachedEmbedding): { tokens: number; characters: number; embeddedTexts: number; cachedTexts: number; tokensEstimated: boolean } {
  return { tokens: u.tokens, characters: u.characters, embeddedTexts: u.providerTexts, cachedTexts: u.cacheHits, tokensEstimated: u.tokensEstimated };
}
