import { Processor, WorkerHost } from '@nestjs/bullmq';
import { BeforeApplicationShutdown, Inject, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { DelayedError, Job, UnrecoverableError } from 'bullmq';
import { APP_CONFIG } from '../../config/config.module';
import { AppConfig } from '../../config/app-config';
import { ClaimedDocument, DocumentsRepository } from '../../documents/documents.repository';
import { sha256Hex } from '../../documents/pipeline';
import { DrainState } from '../../lifecycle/drain.state';
import { ChunkRepository, ChunkToWrite } from '../../vector-store/chunk.repository';
import { EmbeddingGenerations } from '../../vector-store/embedding-generations';
import { ACTIVE_CHUNKS, BUILDING_CHUNKS, Generation, GenerationsRepository } from '../../vector-store/generations.repository';
import { CachedEmbedding } from '../../embedding/cached-embedder';
import { GenerationEmbedders } from './generation-embedders';
import { DeadLetterProducer } from '../queue/dead-letter.producer';
import { chunkContext, chunkMetadata, headingPathAt, markdownHeadings, textToEmbed } from '../chunking/chunk-context';
import { IngestStage, PermanentIngestError, StageError, classifyError } from '../ingest-errors';
import { INGEST_QUEUE, IngestDocumentPayload, IngestJobName } from '../queue/ingest.jobs';
import { TextChunk } from '../chunking/text-splitter';
import { configureWorker } from './worker-options';
import { splitForPipeline } from '../chunking/pipeline-splitter';

export type IngestOutcome = 'ready' | 'stale';

/** Times a document is embedded again within one attempt when a re-embed switches generations under it. */
const GENERATION_ROUNDS = 3;

/** Runs one pipeline stage, tagging any error with the stage's name for the attempt history. */
async function stage<T>(name: IngestStage, work: () => Promise<T> | T): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw err instanceof StageError ? err : new StageError(name, err);
  }
}

/**
 * Consumes `ingest-document` jobs: claim the version, load its text, split, embed in
 * batches, and replace the chunks in the same transaction that marks the document ready.
 * Transient errors are rethrown for BullMQ to retry with backoff; permanent ones end
 * the job at once (`UnrecoverableError`). A job that fails for good leaves the document
 * `failed` and a copy on the dead-letter queue.
 *
 * Stall settings: a worker killed mid-job leaves its job "stalled"; BullMQ's default
 * (`maxStalledCount: 1`) fails a document whose worker dies twice, which a crash-looping
 * deployment would do to healthy documents. Re-delivery is safe (every step is
 * idempotent), so QUEUE_MAX_STALLED defaults to 5; the lock (QUEUE_LOCK_MS, 60 s,
 * renewed at half that) is long enough that a busy event loop does not lose it.
 */
// autorun is off so that the configured settings are in place before the first job.
@Processor(INGEST_QUEUE, { autorun: false })
export class IngestProcessor extends WorkerHost implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger(IngestProcessor.name);
  private inFlight = 0;
  private closing?: Promise<void>;
  private lastStartedAt = Date.now();

  constructor(
    private readonly documents: DocumentsRepository,
    private readonly chunks: ChunkRepository,
    private readonly deadLetters: DeadLetterProducer,
    private readonly generations: EmbeddingGenerations,
    private readonly generationRows: GenerationsRepository,
    private readonly embedders: GenerationEmbedders,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly drain: DrainState,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    configureWorker(this.worker, this.config, this.config.queue.concurrency);
    this.worker.run().catch((err: unknown) => this.logger.error(`worker stopped: ${String(err)}`));
  }

  /** First shutdown hook: stop taking jobs at once; those in flight carry on. */
  onModuleDestroy(): void {
    this.drain.start();
    this.closing ??= this.worker.close();
  }

  /**
   * Waits for the jobs in flight to finish, for up to SHUTDOWN_GRACE_MS, then abandons
   * the rest. Runs before the database and queue connections close.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.onModuleDestroy();
    const grace = this.config.queue.shutdownGraceMs;
    this.logger.log(`draining: ${this.inFlight} job(s) in flight, grace ${grace} ms`);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      (this.closing as Promise<void>).then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), grace))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      // close(true) would return the same pending promise; the process exits regardless
      // (see shutdown-watchdog.ts) and the jobs' locks lapse, so another worker retries them.
      this.logger.warn(`grace period over with ${this.inFlight} job(s) in flight: leaving them to be retried`);
    }
  }

  /** What the liveness check needs to tell a working consumer from a wedged one. */
  consumerState(): { running: boolean; inFlight: number; lastStartedAt: number } {
    return { running: this.worker.isRunning(), inFlight: this.inFlight, lastStartedAt: this.lastStartedAt };
  }

  async process(job: Job<IngestDocumentPayload, IngestOutcome, IngestJobName>, token?: string): Promise<IngestOutcome> {
    const { documentId, version } = job.data;
    if (this.closing && token !== undefined) {
      // Fetched in the instant the shutdown began: hand it back untouched for another worker.
      await job.moveToDelayed(Date.now(), token);
      throw new DelayedError();
    }
    const startedAt = new Date();
    let attempt = job.attemptsMade + 1;
    this.inFlight++;
    this.lastStartedAt = startedAt.getTime();
    try {
      const doc = await stage('claim', () => this.documents.claim(documentId, version));
      if (!doc) return 'stale';
      attempt = doc.attempts;
      const outcome = await this.ingest(doc);
      await this.documents.recordAttempt({
        documentId, version, attempt, startedAt, outcome, stage: null, errorClass: null, message: null,
      });
      return outcome;
    } catch (err) {
      const failure = classifyError(err);
      const failedStage = err instanceof StageError ? err.stage : null;
      const final = !failure.transient || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      await this.recordFailure(job.data, attempt, startedAt, { ...failure, stage: failedStage }, final);
      this.logger.warn(
        `document ${documentId} v${version} attempt ${attempt} failed at ${failedStage ?? '?'} ` +
          `(${failure.errorClass}${final ? ', final' : ', will retry'}): ${failure.message}`,
      );
      throw failure.transient ? err : new UnrecoverableError(`${failure.errorClass}: ${failure.message}`);
    } finally {
      this.inFlight--;
    }
  }

  private async ingest(doc: ClaimedDocument): Promise<IngestOutcome> {
    const text = await stage('load', () => this.documents.loadContent(doc.id, doc.version));
    if (text === null) return 'stale';

    const pieces = await stage('split', () => {
      const chunks = splitForPipeline(text, doc.pipeline);
      if (chunks.length === 0) throw new PermanentIngestError('no_text', 'document has no text to index');
      return chunks;
    });
    const { paths, contexts } = this.sections(doc, text, pieces);
    const texts = pieces.map((p, i) => textToEmbed(contexts[i], p.content));

    // Vectors go into the active generation, with its model, and during a re-embed into
    // the building one too (best effort: the re-embed copies the document later if this
    // fails), so new documents never hold up the switch. If a generation changes
    // meanwhile, the write is refused and the chunks are embedded again.
    for (let round = 1; ; round++) {
      const { active, building } = await stage('embed', () => this.generations.current());
      const embedder = await stage('embed', () => this.embedders.forGeneration(active));
      const embedded = await stage('embed', () => embedder.embed(texts));
      const next = building ? await this.embedForBuilding(doc, building, texts) : null;
      const rows = (vectors: number[][]): ChunkToWrite[] =>
        pieces.map((p, i) => ({
          index: p.index,
          content: p.content,
          contentSha256: sha256Hex(p.content),
          context: contexts[i],
          metadata: chunkMetadata(doc.metadata, paths[i]),
          embedding: vectors[i],
        }));
      const written = await stage('write', () =>
        this.documents.transaction(async (em) => {
          if (!(await this.generationRows.hold(em, active.id, 'active'))) return 'switched';
          if (building && next && !(await this.generationRows.hold(em, building.id, 'building'))) return 'switched';
          if (!(await this.documents.lockProcessing(em, doc.id, doc.version))) return 'stale';
          // The embedder's own id: under ALLOW_MODEL_MISMATCH it is not the generation's model.
          await this.chunks.replaceChunks(em, ACTIVE_CHUNKS, doc.id, doc.namespace, embedder.modelId, rows(embedded.vectors));
          if (building && next) {
            await this.chunks.replaceChunks(em, BUILDING_CHUNKS, doc.id, doc.namespace, next.modelId, rows(next.vectors));
            await this.generationRows.recordCovered(em, building.id, doc.id, doc.version);
          }
          await this.documents.markReady(em, doc.id, doc.version, pieces.length, {
            tokens: embedded.tokens + (next?.tokens ?? 0),
            characters: embedded.characters + (next?.characters ?? 0),
            embeddedTexts: embedded.providerTexts + (next?.providerTexts ?? 0),
            cachedTexts: embedded.cacheHits + (next?.cacheHits ?? 0),
            tokensEstimated: embedded.tokensEstimated || (next?.tokensEstimated ?? false),
          });
          return 'ready';
        }),
      );
      if (written !== 'switched') return written;
      this.generations.invalidate();
      if (round >= GENERATION_ROUNDS) throw new StageError('write', new Error('the embedding generation kept changing during the write'));
    }
  }

  /** Vectors of the building generation's model, or null (logged) if it fails: the re-embed retries the document itself. */
  private async embedForBuilding(
    doc: ClaimedDocument,
    building: Generation,
    texts: string[],
  ): Promise<(CachedEmbedding & { modelId: string }) | null> {
    try {
      const embedder = await this.embedders.forGeneration(building);
      return { ...(await embedder.embed(texts)), modelId: embedder.modelId };
    } catch (err) {
      this.logger.warn(`document ${doc.id} v${doc.version}: left to the re-embed into generation ${building.id}: ${String(err)}`);
      return null;
    }
  }

  /**
   * Each chunk's markdown heading path, and its context (title and heading path, or
   * null when contextual chunks are off).
   */
  private sections(doc: ClaimedDocument, text: string, pieces: TextChunk[]): { paths: string[][]; contexts: Array<string | null> } {
    const headings = markdownHeadings(text);
    const paths = pieces.map((p) => headingPathAt(headings, p.start));
    const contexts = doc.pipeline.contextual ? paths.map((path) => chunkContext(doc.title, path)) : pieces.map(() => null);
    return { paths, contexts };
  }

  /** Best effort: the database may be what failed. The reconciler repairs what this misses. */
  private async recordFailure(
    payload: IngestDocumentPayload,
    attempt: number,
    startedAt: Date,
    failure: { errorClass: string; message: string; stage: string | null },
    final: boolean,
  ): Promise<void> {
    const { documentId, version } = payload;
    try {
      const current = await this.documents.markAttemptFailed(documentId, version, failure, final);
      if (!current) return;
      await this.documents.recordAttempt({
        documentId, version, attempt, startedAt, outcome: final ? 'failed' : 'retry',
        stage: failure.stage, errorClass: failure.errorClass, message: failure.message,
      });
      if (final) {
        const doc = await this.documents.findById(documentId);
        await this.deadLetters.add({
          original: payload,
          namespace: doc?.namespace ?? '',
          errorClass: failure.errorClass,
          error: failure.message,
          stage: failure.stage,
          attempts: attempt,
          failedAt: new Date().toISOString(),
        });
      }
    } catch (err) {
      this.logger.error(`could not record the failure of ${documentId} v${version}: ${String(err)}`);
    }
  }
}
