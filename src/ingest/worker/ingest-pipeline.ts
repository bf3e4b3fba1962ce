import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { AttemptRecord, ClaimedDocument, DocumentsRepository, EmbeddingUsageRecord } from '../../documents/documents.repository';
import { CachedEmbedding } from '../../embedding/cached-embedder';
import { EmbedderRegistry } from '../../embedding/embedder-registry';
import { FileTextExtractor } from '../../extraction/worker/file-text.extractor';
import { StatusEvent } from '../../events/status-event';
import { STATUS_EVENTS, StatusEvents } from '../../events/status-events';
import { CurrentGenerations, Generation, GenerationChangedError } from '../../vector-store/generations/generation';
import { GenerationChunks } from '../../vector-store/generations/generation-writer';
import { LiveGenerations } from '../../vector-store/generations/live-generations';
import { retryOnGenerationChange } from '../../vector-store/generations/retry-on-generation-change';
import { ChunkDraft, draftChunks } from '../chunking/chunk-drafts';
import { PermanentIngestError, StageError, isDocumentGone } from '../ingest-errors';
import { IngestDocumentPayload } from '../queue/ingest.jobs';
import { stage } from './pipeline-stage';
import { SlicedIngest } from '../slices/sliced-ingest';
import { chunksWritten } from '../../observability/metrics/service-metrics';
import { FailureRecorder } from './failure-recorder';
import { jobFailure } from './job-failure';
import { JobTries } from './queue-worker.host';
import { ReadyCommits } from './ready-commits';

/** 'sliced': a large document handed to its slice jobs (see SlicedIngest), which finish it. */
export type IngestOutcome = 'ready' | 'stale' | 'sliced';

/** What the pipeline needs of the documents table. */
export type PipelineDocuments = Pick<DocumentsRepository, 'claim' | 'loadContent' | 'recordAttempt'>;
/** What it needs of the embedders, the live generations and the final write. */
export type PipelineEmbedders = Pick<EmbedderRegistry, 'embedderFor'>;
export type PipelineGenerations = Pick<LiveGenerations, 'current' | 'invalidate'>;
export type PipelineCommits = Pick<ReadyCommits, 'commit'>;
export type PipelineFailures = Pick<FailureRecorder, 'record'>;
export type PipelineExtractor = Pick<FileTextExtractor, 'extract'>;
export type PipelineSlices = Pick<SlicedIngest, 'wants' | 'fanOut' | 'resume'>;

/**
 * One document version from queued to ready: claim it, load its text, split it, embed
 * the chunks with each live generation's model, and replace its chunks in the same
 * transaction that marks it ready. Every write goes through `GenerationWriter`, which
 * holds the generations it writes: when a re-embed switches or is cancelled meanwhile,
 * the chunks are embedded again for the generations then live. A failure is recorded
 * against the claimed document and returned as the error the queue must see.
 */
@Injectable()
export class IngestPipeline {
  private readonly logger = new Logger(IngestPipeline.name);

  constructor(
    @Inject(DocumentsRepository) private readonly documents: PipelineDocuments,
    @Inject(EmbedderRegistry) private readonly embedders: PipelineEmbedders,
    @Inject(LiveGenerations) private readonly generations: PipelineGenerations,
    @Inject(ReadyCommits) private readonly commits: PipelineCommits,
    @Inject(FailureRecorder) private readonly failures: PipelineFailures,
    @Inject(FileTextExtractor) private readonly extractor: PipelineExtractor,
    @Optional() @Inject(STATUS_EVENTS) private readonly events: StatusEvents = { publish: async () => undefined },
    @Optional() @Inject(APP_CONFIG) private readonly config?: AppConfig,
    @Optional() @Inject(SlicedIngest) private readonly slices?: PipelineSlices,
  ) {}

  /** Announces a change of the claimed version to live streams and webhooks. */
  private announce(doc: ClaimedDocument, change: Omit<StatusEvent, 'documentId' | 'namespace' | 'version' | 'at'>): Promise<void> {
    return this.events.publish({ documentId: doc.id, namespace: doc.namespace, version: doc.version, ...change });
  }

  /**
   * Processes `payload`'s version. Resolves 'stale' when the version is no longer current
   * (or the document is gone) and nothing was written. Throws what the queue must see
   * after recording the failure: the error itself to retry, `UnrecoverableError` to stop.
   */
  async run(payload: IngestDocumentPayload, tries: JobTries): Promise<IngestOutcome> {
    const startedAt = new Date();
    let doc: ClaimedDocument | null = null;
    try {
      // A version already fanned out carries on from its staged slices, never from its text.
      const slices = this.slices;
      // One claim stage either way: the stage metrics count each try once.
      const claim = await stage('claim', async (): Promise<{ resumed: IngestOutcome } | { doc: ClaimedDocument | null }> => {
        const resumed = slices ? await slices.resume(payload) : null;
        return resumed ? { resumed } : { doc: await this.documents.claim(payload.documentId, payload.version) };
      });
      if ('resumed' in claim) return claim.resumed;
      doc = claim.doc;
      if (!doc) return 'stale';
      const claimed = doc;
      const attempt = (outcome: 'ready' | 'stale'): AttemptRecord => ({
        documentId: claimed.id, version: claimed.version, attempt: claimed.attempts, startedAt, outcome, stage: null, errorClass: null, message: null,
      });
      await this.announce(doc, { status: 'processing', stage: 'load' });
      const outcome = await this.ingest(doc, attempt('ready'), payload.requestId);
      // A ready attempt was recorded with the chunks; a stale one is recorded here.
      if (outcome === 'stale') await this.documents.recordAttempt(attempt('stale'));
      return outcome;
    } catch (err) {
      // Deleted while this job ran: nothing to write, nothing to record.
      if (isDocumentGone(err)) return 'stale';
      const failure = jobFailure(err, tries);
      const attempt = doc?.attempts ?? tries.made + 1;
      await this.failures.record({ payload, namespace: doc?.namespace ?? null, attempt, startedAt }, failure);
      throw failure.rethrow;
    }
  }

  private async ingest(doc: ClaimedDocument, ready: AttemptRecord, requestId?: string): Promise<IngestOutcome> {
    const stored = await stage('load', () => this.documents.loadContent(doc.id, doc.version));
    if (stored === null) return 'stale';
    // An uploaded file's text is extracted on every attempt; a text document's is stored.
    const source = doc.source;
    if (source) await this.announce(doc, { status: 'processing', stage: 'extract' });
    const extracted = source ? await stage('extract', () => this.extractor.extract({ id: doc.id, source })) : { text: stored };
    if (extracted === null) return 'stale';
    const text = extracted.text;
    if (this.slices?.wants(text.length)) return this.slices.fanOut(doc, extracted, requestId);
    await this.announce(doc, { status: 'processing', stage: 'split' });
    const drafts = await stage('split', () => {
      const chunks = draftChunks(doc, text, extracted.pageStarts, this.config?.limits.maxChunksPerDocument);
      if (chunks.length === 0) throw new PermanentIngestError('no_text', 'document has no text to index');
      return chunks;
    });
    const written = retryOnGenerationChange(async () => {
      // One stage call, so the stage histogram counts one embed per try.
      const writes = await stage('embed', async () => this.embed(doc, await this.generations.current(), drafts));
      await this.announce(doc, { status: 'processing', stage: 'write' });
      return stage('write', () => this.write(doc, writes, drafts.length, ready));
    }, () => this.generations.invalidate());
    const outcome = await written.catch((err: unknown) => {
      throw err instanceof GenerationChangedError ? new StageError('write', new Error('the embedding generation kept changing during the write')) : err;
    });
    if (outcome === 'ready') await this.announce(doc, { status: 'ready', chunkCount: drafts.length });
    return outcome;
  }

  /**
   * The chunks embedded for the active generation, and during a re-embed for the building
   * one too, best effort: if that fails the re-embed copies the document later. So new
   * documents never hold up the switch.
   */
  private async embed(doc: ClaimedDocument, live: CurrentGenerations, drafts: ChunkDraft[]): Promise<Array<GenerationChunks & { usage: CachedEmbedding }>> {
    const texts = drafts.map((d) => d.textToEmbed);
    const progress = embedProgress((chunksEmbedded, chunksTotal) => this.announce(doc, { status: 'processing', stage: 'embed', chunksEmbedded, chunksTotal }));
    const forGeneration = async (generation: Generation, onProgress?: typeof progress): Promise<GenerationChunks & { usage: CachedEmbedding }> => {
      const embedder = await this.embedders.embedderFor(generation);
      const usage = await embedder.embed(texts, onProgress);
      const chunks = drafts.map((d, i) => ({ ...d, embedding: usage.vectors[i] }));
      return { generation, modelId: embedder.modelId, chunks, usage };
    };
    const writes = [await forGeneration(live.active, progress)];
    if (live.building) {
      const building = live.building;
      const next = await forGeneration(building).catch((err: unknown) => {
        this.logger.warn(`document ${doc.id} v${doc.version}: left to the re-embed into generation ${building.id}: ${String(err)}`);
        return null;
      });
      if (next) writes.push(next);
    }
    return writes;
  }

  /** Writes the chunks and marks the document ready, recording the attempt in the same transaction (see ReadyCommits). */
  private async write(
    doc: ClaimedDocument,
    writes: Array<GenerationChunks & { usage: CachedEmbedding }>,
    chunkCount: number,
    ready: AttemptRecord,
  ): Promise<IngestOutcome> {
    const usage = totalUsage(writes.map((w) => w.usage));
    const outcome = await this.commits.commit({ doc, writes, chunkCount, usage, attempt: ready });
    if (outcome === 'ready') chunksWritten.inc(chunkCount);
    return outcome;
  }
}

/** What embedding the document cost, over every generation it was written to. */
function totalUsage(usages: CachedEmbedding[]): EmbeddingUsageRecord {
  return {
    tokens: usages.reduce((n, u) => n + u.tokens, 0),
    characters: usages.reduce((n, u) => n + u.characters, 0),
    embeddedTexts: usages.reduce((n, u) => n + u.providerTexts, 0),
    cachedTexts: usages.reduce((n, u) => n + u.cacheHits, 0),
    tokensEstimated: usages.some((u) => u.tokensEstimated),
  };
}

// Progress reaches clients at most this often (and always at the start and the end).
const PROGRESS_INTERVAL_MS = 250;

/** Passes embedding progress on, thinned out so a large document does not flood its streams. */
function embedProgress(report: (embedded: number, total: number) => Promise<void>): (embedded: number, total: number) => Promise<void> {
  let last = 0;
  return async (embedded, total) => {
    const now = Date.now();
    if (embedded !== 0 && embedded < total && now - last < PROGRESS_INTERVAL_MS) return;
    last = now;
    await report(embedded, total);
  };
}
