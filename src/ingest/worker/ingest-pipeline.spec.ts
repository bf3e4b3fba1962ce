import { UnrecoverableError } from 'bullmq';
import type { EntityManager } from 'typeorm';
import { AttemptRecord, ClaimedDocument, EmbeddingUsageRecord } from '../../documents/documents.repository';
import { CachedEmbedder, UsageReportingProvider } from '../../embedding/cached-embedder';
import type { GenerationModel } from '../../embedding/embedder-registry';
import { EmbeddingCache } from '../../embedding/embedding-cache';
import { EmbeddingError } from '../../embedding/embedding.errors';
import type { EmbeddingUsage } from '../../embedding/openai/openai-embedding.provider';
import { CurrentGenerations, Generation, GenerationChangedError, GenerationStatus } from '../../vector-store/generations/generation';
import type { GenerationChunks } from '../../vector-store/generations/generation-writer';
import { ChunkDraft, draftChunks } from '../chunking/chunk-drafts';
import { SPLITTER_VERSION } from '../chunking/text-splitter';
import { PermanentIngestError, StageError } from '../ingest-errors';
import type { FailedAttempt } from './failure-recorder';
import type { JobFailure } from './job-failure';
import type { ExtractedText } from '../../extraction/extracted-text';
import type { FileDocument } from '../../extraction/worker/file-text.extractor';
import {
  IngestPipeline,
  PipelineDocuments,
  PipelineEmbedders,
  PipelineExtractor,
  PipelineFailures,
  PipelineGenerations,
} from './ingest-pipeline';
import { CommitDocuments, CommitWriter, ReadyCommits } from './ready-commits';
import type { JobTries } from './queue-worker.host';
import type { StatusEvent } from '../../events/status-event';
import type { StatusEvents } from '../../events/status-events';

/** The fakes never touch the transaction's EntityManager: they only pass it along. */
const UNUSED_EM = {} as EntityManager;
/** The embedders run with the cache off, so it is never queried. */
const UNUSED_CACHE = new EmbeddingCache({ query: () => Promise.reject(new Error('the embedding cache is off in these tests')) });

/** A model reporting `tokensPerText` tokens per text; its vectors are [tag, position]. Throws `failure` when set. */
class FakeModel implements UsageReportingProvider {
  readonly dimension = 2;
  readonly calls: string[][] = [];
  failure: Error | null = null;

  constructor(readonly modelId: string, readonly tag: number, readonly tokensPerText: number) {}

  async embed(texts: string[]): Promise<number[][]> {
    return (await this.embedWithUsage(texts)).vectors;
  }

  async embedWithUsage(texts: string[]): Promise<EmbeddingUsage> {
    this.calls.push(texts);
    if (this.failure) throw this.failure;
    return { vectors: texts.map((_, i) => [this.tag, i]), tokens: texts.length * this.tokensPerText, requests: 1 };
  }
}

class FakeEmbedders implements PipelineEmbedders {
  constructor(private readonly models: FakeModel[]) {}

  async embedderFor(generation: GenerationModel): Promise<CachedEmbedder> {
    const model = this.models.find((m) => m.modelId === generation.modelId);
    if (!model) throw new Error(`no fake model ${generation.modelId}`);
    return new CachedEmbedder(model, UNUSED_CACHE, { enabled: false });
  }
}

/** Serves `live`; `invalidate` moves on to `afterInvalidate` (what a switch leaves). */
class FakeGenerations implements PipelineGenerations {
  reads = 0;
  invalidations = 0;

  constructor(private live: CurrentGenerations, private readonly afterInvalidate: CurrentGenerations) {}

  async current(): Promise<CurrentGenerations> {
    this.reads++;
    return this.live;
  }

  invalidate(): void {
    this.invalidations++;
    this.live = this.afterInvalidate;
  }
}

/** Records holds and writes in `log`; the first `changes` holds throw `GenerationChangedError`. */
class FakeWriter implements CommitWriter {
  readonly held: Generation[][] = [];
  readonly replaced: GenerationChunks[][] = [];
  changes = 0;

  constructor(private readonly log: string[]) {}

  async hold(_em: EntityManager, generations: Generation[]): Promise<void> {
    this.log.push('hold');
    this.held.push(generations);
    if (this.changes-- > 0) throw new GenerationChangedError(generations[0].id);
  }

  async replace(_em: EntityManager, _doc: { id: string; namespace: string }, _version: number, writes: GenerationChunks[]): Promise<void> {
    this.log.push('replace');
    // The pipeline's writes carry their usage too; the writer only reads these fields.
    this.replaced.push(writes.map(({ generation, modelId, chunks }) => ({ generation, modelId, chunks })));
  }

  async replaceMany(): Promise<void> {
    throw new Error('grouped writes are off in these tests');
  }
}

class FakeDocuments implements PipelineDocuments, CommitDocuments {
  readonly ready: Array<{ chunkCount: number; usage: EmbeddingUsageRecord }> = [];
  readonly attempts: AttemptRecord[] = [];
  stillProcessing = true;
  loadFailure: Error | null = null;

  constructor(private readonly log: string[], private readonly claimed: ClaimedDocument | null, private readonly text: string) {}

  transaction<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    return work(UNUSED_EM);
  }

  async claim(): Promise<ClaimedDocument | null> {
    this.log.push('claim');
    return this.claimed;
  }

  async loadContent(): Promise<string | null> {
    this.log.push('load');
    if (this.loadFailure) throw this.loadFailure;
    return this.text;
  }

  async lockProcessing(): Promise<boolean> {
    this.log.push('lockProcessing');
    return this.stillProcessing;
  }

  async markReady(_em: EntityManager, _id: string, _version: number, chunkCount: number, usage: EmbeddingUsageRecord): Promise<void> {
    this.log.push('markReady');
    this.ready.push({ chunkCount, usage });
  }

  async recordAttempt(a: AttemptRecord): Promise<void> {
    this.attempts.push(a);
  }

  // Grouped writes are off in these tests (ReadyCommits without a config writes each document alone).
  async lockProcessingMany(): Promise<Set<string>> {
    throw new Error('grouped writes are off in these tests');
  }

  async markReadyMany(): Promise<void> {
    throw new Error('grouped writes are off in these tests');
  }

  async recordAttempts(): Promise<void> {
    throw new Error('grouped writes are off in these tests');
  }
}

class FakeFailures implements PipelineFailures {
  readonly recorded: Array<{ attempt: FailedAttempt; failure: JobFailure }> = [];

  async record(attempt: FailedAttempt, failure: JobFailure): Promise<void> {
    this.recorded.push({ attempt, failure });
  }
}

function generation(id: number, status: GenerationStatus, modelId: string): Generation {
  const at = new Date('2025-01-01T00:00:00Z');
  return { id, status, modelId, dimension: 2, spec: { provider: 'hash', modelId, dimension: 2 }, previousId: null, createdAt: at, activatedAt: at, finishedAt: null };
}

const OLD = generation(1, 'active', 'fake:old');
const NEW = generation(2, 'building', 'fake:new');
const NEW_ACTIVE: Generation = { ...NEW, status: 'active' };
const PAYLOAD = { documentId: 'doc-1', version: 3 };
const FIRST_TRY: JobTries = { made: 0, allowed: 3 };
const DOC: ClaimedDocument = {
  id: 'doc-1', namespace: 'team-a', title: 'Handbook', metadata: { source: 'wiki' }, version: 3, attempts: 1,
  pipeline: { chunkSize: 200, chunkOverlap: 20, chunkUnit: 'chars', contextual: true, splitter: SPLITTER_VERSION },
};
const TEXT = [
  '# Onboarding',
  'Every new engineer gets a laptop, an account on the build farm and a buddy for the first two weeks. '.repeat(2),
  '## Access',
  'Request access to the production dashboards through the service desk; approvals take a day. '.repeat(3),
].join('\n\n');
const DRAFTS = draftChunks(DOC, TEXT);
const FILE_SOURCE = { filename: 'onboarding.pdf', mimeType: 'application/pdf', bytes: 1234, sha256: 'f'.repeat(64) };
const TEXTS = DRAFTS.map((d) => d.textToEmbed);
const CHARACTERS = TEXTS.reduce((n, t) => n + t.length, 0);

/** Serves `extracted` for every file, or throws `failure`; never called for a text document unless a test says so. */
class FakeExtractor implements PipelineExtractor {
  readonly calls: string[] = [];
  constructor(private readonly extracted: ExtractedText | null = null, private readonly failure: Error | null = null) {}

  async extract(doc: FileDocument): Promise<ExtractedText | null> {
    this.calls.push(doc.id);
    if (this.failure) throw this.failure;
    return this.extracted;
  }
}

/** Records what the pipeline announces, in order, and whether `ready` came after the commit. */
class FakeEvents implements StatusEvents {
  readonly published: Array<Omit<StatusEvent, 'at'> & { afterCommit: boolean }> = [];
  constructor(private readonly log: string[]) {}
  async publish(event: Omit<StatusEvent, 'at'>): Promise<void> {
    this.published.push({ ...event, afterCommit: this.log.includes('markReady') });
  }
}

function setup(
  o: { live?: CurrentGenerations; afterInvalidate?: CurrentGenerations; claimed?: ClaimedDocument | null; text?: string; extractor?: FakeExtractor } = {},
) {
  const live = o.live ?? { active: OLD, building: null };
  const log: string[] = [];
  const oldModel = new FakeModel(OLD.modelId, 1, 3);
  const newModel = new FakeModel(NEW.modelId, 2, 5);
  const documents = new FakeDocuments(log, o.claimed === undefined ? DOC : o.claimed, o.text ?? TEXT);
  const generations = new FakeGenerations(live, o.afterInvalidate ?? live);
  const writer = new FakeWriter(log);
  const failures = new FakeFailures();
  const extractor = o.extractor ?? new FakeExtractor();
  const events = new FakeEvents(log);
  const commits = new ReadyCommits(documents, writer);
  const pipeline = new IngestPipeline(documents, new FakeEmbedders([oldModel, newModel]), generations, commits, failures, extractor, events);
  return { pipeline, log, oldModel, newModel, documents, generations, writer, failures, extractor, events };
}

/** What the writer gets for `generation` embedded by `model`. */
function writeFor(generation: Generation, model: FakeModel): GenerationChunks {
  return { generation, modelId: model.modelId, chunks: DRAFTS.map((d: ChunkDraft, i) => ({ ...d, embedding: [model.tag, i] })) };
}

const usageOf = (...models: FakeModel[]): EmbeddingUsageRecord => ({
  tokens: models.reduce((n, m) => n + m.tokensPerText * TEXTS.length, 0),
  characters: CHARACTERS * models.length,
  embeddedTexts: TEXTS.length * models.length,
  cachedTexts: 0,
  tokensEstimated: false,
});

describe('IngestPipeline', () => {
  it('drafts several chunks of the sample document (so the tests below mean something)', () => {
    expect(DRAFTS.length).toBeGreaterThan(2);
    expect(DRAFTS[DRAFTS.length - 1].textToEmbed).toContain('Access');
  });

  it('is stale when the version cannot be claimed, embedding and writing nothing', async () => {
    const t = setup({ claimed: null });
    await expect(t.pipeline.run(PAYLOAD, FIRST_TRY)).resolves.toBe('stale');
    expect(t.log).toEqual(['claim']);
    expect(t.oldModel.calls).toEqual([]);
    expect(t.writer.held).toEqual([]);
    expect(t.documents.attempts).toEqual([]);
    expect(t.failures.recorded).toEqual([]);
  });

  it("embeds the chunks with the active generation's model and writes them in the transaction that marks the document ready", async () => {
    const t = setup();
    await expect(t.pipeline.run(PAYLOAD, FIRST_TRY)).resolves.toBe('ready');
    expect(t.oldModel.calls).toEqual([TEXTS]);
    expect(t.newModel.calls).toEqual([]);
    expect(t.log).toEqual(['claim', 'load', 'hold', 'lockProcessing', 'replace', 'markReady']);
    expect(t.writer.held).toEqual([[OLD]]);
    expect(t.writer.replaced).toEqual([[writeFor(OLD, t.oldModel)]]);
    expect(t.documents.ready).toEqual([{ chunkCount: DRAFTS.length, usage: usageOf(t.oldModel) }]);
    expect(t.documents.attempts).toEqual([
      { documentId: DOC.id, version: DOC.version, attempt: DOC.attempts, startedAt: expect.any(Date), outcome: 'ready', stage: null, errorClass: null, message: null },
    ]);
    expect(t.failures.recorded).toEqual([]);
  });

  it('announces each stage, embedding progress, and ready only after the commit', async () => {
    const t = setup();
    await t.pipeline.run(PAYLOAD, FIRST_TRY);
    const ids = { documentId: DOC.id, namespace: DOC.namespace, version: DOC.version };
    expect(t.events.published).toEqual([
      { ...ids, status: 'processing', stage: 'load', afterCommit: false },
      { ...ids, status: 'processing', stage: 'split', afterCommit: false },
      { ...ids, status: 'processing', stage: 'embed', chunksEmbedded: 0, chunksTotal: DRAFTS.length, afterCommit: false },
      { ...ids, status: 'processing', stage: 'embed', chunksEmbedded: DRAFTS.length, chunksTotal: DRAFTS.length, afterCommit: false },
      { ...ids, status: 'processing', stage: 'write', afterCommit: false },
      { ...ids, status: 'ready', chunkCount: DRAFTS.length, afterCommit: true },
    ]);
  });

  it('announces no ready when the version was stale at the write', async () => {
    const t = setup();
    t.documents.stillProcessing = false;
    await expect(t.pipeline.run(PAYLOAD, FIRST_TRY)).resolves.toBe('stale');
    expect(t.events.published.map((e) => e.status)).not.toContain('ready');
  });

  it('fails for good at the split when the text has nothing to index', async () => {
    const t = setup({ text: '   \n\n \t\n' });
    const thrown = await t.pipeline.run(PAYLOAD, FIRST_TRY).catch((err: unknown) => err);
    expect(thrown).toBeInstanceOf(UnrecoverableError);
    expect(t.failures.recorded).toEqual([
      { attempt: { payload: PAYLOAD, namespace: DOC.namespace, attempt: DOC.attempts, startedAt: expect.any(Date) }, failure: expect.objectContaining({ errorClass: 'no_text', transient: false, final: true, stage: 'split' }) },
    ]);
    expect(t.oldModel.calls).toEqual([]);
    expect(t.writer.held).toEqual([]);
  });

  it("splits an uploaded file's extracted text, not the stored (empty) text, naming each chunk's pages", async () => {
    const pageTwo = TEXT.indexOf('## Access');
    const t = setup({ claimed: { ...DOC, source: FILE_SOURCE }, text: '', extractor: new FakeExtractor({ text: TEXT, pageStarts: [0, pageTwo] }) });
    await expect(t.pipeline.run(PAYLOAD, FIRST_TRY)).resolves.toBe('ready');
    expect(t.extractor.calls).toEqual([DOC.id]);
    const chunks = t.writer.replaced[0][0].chunks;
    expect(chunks.map((c) => c.content)).toEqual(DRAFTS.map((d) => d.content));
    expect(chunks[0].metadata.pages).toEqual([1]);
    expect(chunks[chunks.length - 1].metadata.pages).toEqual([2]);
  });

  it('fails for good at the extract stage when the file cannot be read, embedding nothing', async () => {
    const unreadable = new PermanentIngestError('unreadable_file', 'not a readable PDF');
    const t = setup({ claimed: { ...DOC, source: FILE_SOURCE }, text: '', extractor: new FakeExtractor(null, unreadable) });
    const thrown = await t.pipeline.run(PAYLOAD, FIRST_TRY).catch((err: unknown) => err);
    expect(thrown).toBeInstanceOf(UnrecoverableError);
    expect(t.failures.recorded).toEqual([
      { attempt: expect.anything(), failure: expect.objectContaining({ errorClass: 'unreadable_file', transient: false, final: true, stage: 'extract' }) },
    ]);
    expect(t.oldModel.calls).toEqual([]);
  });

  it('never extracts a document posted as text', async () => {
    const t = setup();
    await expect(t.pipeline.run(PAYLOAD, FIRST_TRY)).resolves.toBe('ready');
    expect(t.extractor.calls).toEqual([]);
  });

  it('is stale, marking nothing ready, when the version moved on before the write', async () => {
    const t = setup();
    t.documents.stillProcessing = false;
    await expect(t.pipeline.run(PAYLOAD, FIRST_TRY)).resolves.toBe('stale');
    expect(t.writer.replaced).toEqual([]);
    expect(t.documents.ready).toEqual([]);
    expect(t.documents.attempts).toEqual([expect.objectContaining({ outcome: 'stale', stage: null })]);
  });

  it('during a re-embed writes the chunks embedded for both generations, summing the usage', async () => {
    const t = setup({ live: { active: OLD, building: NEW } });
    await expect(t.pipeline.run(PAYLOAD, FIRST_TRY)).resolves.toBe('ready');
    expect(t.oldModel.calls).toEqual([TEXTS]);
    expect(t.newModel.calls).toEqual([TEXTS]);
    expect(t.writer.held).toEqual([[OLD, NEW]]);
    expect(t.writer.replaced).toEqual([[writeFor(OLD, t.oldModel), writeFor(NEW, t.newModel)]]);
    expect(t.documents.ready).toEqual([{ chunkCount: DRAFTS.length, usage: usageOf(t.oldModel, t.newModel) }]);
  });

  it("leaves the document to the re-embed when the building generation's model fails", async () => {
    const t = setup({ live: { active: OLD, building: NEW } });
    t.newModel.failure = new EmbeddingError('503 from the new model', true);
    await expect(t.pipeline.run(PAYLOAD, FIRST_TRY)).resolves.toBe('ready');
    expect(t.writer.held).toEqual([[OLD]]);
    expect(t.writer.replaced).toEqual([[writeFor(OLD, t.oldModel)]]);
    expect(t.documents.ready).toEqual([{ chunkCount: DRAFTS.length, usage: usageOf(t.oldModel) }]);
    expect(t.failures.recorded).toEqual([]);
  });

  it('embeds again for the generations then live when a switch happens before the write', async () => {
    const t = setup({ live: { active: OLD, building: NEW }, afterInvalidate: { active: NEW_ACTIVE, building: null } });
    t.writer.changes = 1;
    await expect(t.pipeline.run(PAYLOAD, FIRST_TRY)).resolves.toBe('ready');
    expect(t.generations.invalidations).toBe(1);
    expect(t.generations.reads).toBe(2);
    expect(t.oldModel.calls).toEqual([TEXTS]);
    expect(t.newModel.calls).toEqual([TEXTS, TEXTS]);
    expect(t.writer.held).toEqual([[OLD, NEW], [NEW_ACTIVE]]);
    expect(t.writer.replaced).toEqual([[writeFor(NEW_ACTIVE, t.newModel)]]);
    expect(t.documents.ready).toEqual([{ chunkCount: DRAFTS.length, usage: usageOf(t.newModel) }]);
  });

  it('gives up the attempt at the write, for a retry, when the generations keep changing', async () => {
    const t = setup();
    t.writer.changes = Infinity;
    const thrown = await t.pipeline.run(PAYLOAD, FIRST_TRY).catch((err: unknown) => err);
    expect(t.writer.held).toHaveLength(3);
    expect(t.generations.invalidations).toBe(2);
    expect(t.oldModel.calls).toHaveLength(3);
    expect(t.writer.replaced).toEqual([]);
    expect(t.failures.recorded).toEqual([{ attempt: expect.anything(), failure: expect.objectContaining({ stage: 'write', transient: true, final: false }) }]);
    expect(thrown).toBe(t.failures.recorded[0].failure.rethrow);
    expect(thrown).toBeInstanceOf(StageError);
    expect(thrown).not.toBeInstanceOf(UnrecoverableError);
  });

  it("records a transient failure on the last allowed attempt as final, against the claimed document's namespace and attempt", async () => {
    const t = setup({ claimed: { ...DOC, attempts: 4 } });
    const unavailable = new EmbeddingError('429 too many requests', true);
    t.oldModel.failure = unavailable;
    const thrown = await t.pipeline.run(PAYLOAD, { made: 2, allowed: 3 }).catch((err: unknown) => err);
    expect(t.failures.recorded).toEqual([
      { attempt: { payload: PAYLOAD, namespace: 'team-a', attempt: 4, startedAt: expect.any(Date) }, failure: expect.objectContaining({ errorClass: 'embedding_unavailable', stage: 'embed', final: true }) },
    ]);
    expect(thrown).toBeInstanceOf(StageError);
    expect((thrown as StageError).failure).toBe(unavailable);
    expect(t.writer.held).toEqual([]);
  });

  it('records a transient failure on an earlier attempt as not final and rethrows it for a retry', async () => {
    const t = setup();
    const refused = new Error('connect ECONNREFUSED 127.0.0.1:5432');
    t.documents.loadFailure = refused;
    const thrown = await t.pipeline.run(PAYLOAD, FIRST_TRY).catch((err: unknown) => err);
    expect(t.failures.recorded).toEqual([
      { attempt: expect.objectContaining({ attempt: DOC.attempts }), failure: expect.objectContaining({ errorClass: 'database_unavailable', stage: 'load', final: false }) },
    ]);
    expect(thrown).toBe(t.failures.recorded[0].failure.rethrow);
    expect((thrown as StageError).failure).toBe(refused);
  });
});
