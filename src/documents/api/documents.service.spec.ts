import { BadRequestException, ServiceUnavailableException, UnprocessableEntityException } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { loadConfig } from '../../config/app-config';
import { SPLITTER_VERSION } from '../../ingest/chunking/text-splitter';
import { IngestDocumentPayload } from '../../ingest/queue/ingest.jobs';
import { DrainState } from '../../lifecycle/drain.state';
import { DocumentEntity } from '../document.entity';
import { DocumentPage } from '../document-page';
import { DocumentWithModel, NamespaceUsage } from '../document-reads.repository';
import { NewDocument, StoredVersion } from '../document-versions.repository';
import { AttemptRecord } from '../documents.repository';
import { RememberedAnswer, StoredAnswer } from '../idempotency.repository';
import { PipelineConfig, sha256Hex } from '../pipeline';
import { SubmitAnswer } from '../submit-answer';
import { DocumentReadStore, DocumentVersionStore, IdempotencyStore, IngestJobs } from './documents.ports';
import { DocumentsService } from './documents.service';
import { CreateDocumentDto } from './dto/create-document.dto';

// The fakes keep their state in memory and never look at the manager they are handed.
const NO_MANAGER = Object.freeze({}) as EntityManager;

/** In-memory documents and idempotency keys, with transactions that roll back on a throw; logs what happens when. */
class FakeDatabase {
  documents = new Map<string, DocumentEntity>();
  keys = new Map<string, RememberedAnswer>();
  readonly log: string[] = [];
  private nextId = 1;

  async transaction<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    const documents = new Map([...this.documents].map(([id, d]) => [id, Object.assign(new DocumentEntity(), d)]));
    const keys = new Map(this.keys);
    this.log.push('begin');
    try {
      const result = await work(NO_MANAGER);
      this.log.push('commit');
      return result;
    } catch (err) {
      this.documents = documents;
      this.keys = keys;
      this.log.push('rollback');
      throw err;
    }
  }

  byExternalId(namespace: string, externalId: string): DocumentEntity | undefined {
    return [...this.documents.values()].find((d) => d.namespace === namespace && d.externalId === externalId);
  }

  /** Stores a row as the service would have, or as an older release did (`pipeline` and hash given as stored). */
  store(doc: NewDocument, overrides: Partial<DocumentEntity> = {}): DocumentEntity {
    const now = new Date();
    const row = Object.assign(new DocumentEntity(), {
      id: `00000000-0000-4000-8000-${String(this.nextId++).padStart(12, '0')}`,
      namespace: doc.namespace,
      externalId: doc.externalId,
      title: doc.title,
      metadata: doc.metadata,
      contentSha256: doc.contentSha256,
      contentLength: doc.content.length,
      pipeline: doc.pipeline,
      pipelineHash: doc.pipelineHash,
      source: doc.source ?? null,
      status: 'queued',
      version: 1,
      attempts: 0,
      lastError: null,
      lastErrorClass: null,
      failedStage: null,
      deadLetterDiscardedAt: null,
      embeddingTokens: 0,
      embeddingTokensTotal: 0,
      embeddingCharacters: 0,
      embeddingCharactersTotal: 0,
      embeddedTexts: 0,
      cachedTexts: 0,
      tokensEstimated: false,
      chunkCount: null,
      createdAt: now,
      updatedAt: now,
      startedAt: null,
      completedAt: null,
      ...overrides,
    } satisfies DocumentEntity);
    this.documents.set(row.id, row);
    return row;
  }
}

class FakeVersions implements DocumentVersionStore {
  constructor(private readonly db: FakeDatabase) {}

  transaction<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  async insert(_em: EntityManager, doc: NewDocument): Promise<DocumentEntity | null> {
    if (doc.externalId !== null && this.db.byExternalId(doc.namespace, doc.externalId)) return null;
    return this.db.store(doc);
  }

  async findByExternalIdForUpdate(_em: EntityManager, namespace: string, externalId: string): Promise<DocumentEntity | null> {
    return this.db.byExternalId(namespace, externalId) ?? null;
  }

  async newVersion(_em: EntityManager, existing: DocumentEntity, doc: NewDocument): Promise<DocumentEntity> {
    const row = this.db.documents.get(existing.id) as DocumentEntity;
    Object.assign(row, {
      title: doc.title,
      metadata: doc.metadata,
      contentSha256: doc.contentSha256,
      contentLength: doc.content.length,
      pipeline: doc.pipeline,
      pipelineHash: doc.pipelineHash,
      status: 'queued',
      version: row.version + 1,
      attempts: 0,
      lastError: null,
    });
    return row;
  }

  async requeue(): Promise<DocumentEntity | null> {
    throw new Error('not part of submit');
  }

  async statusesOf(): Promise<Map<string, string>> {
    throw new Error('not part of submit');
  }

  async findByExternalIds(): Promise<Map<string, StoredVersion>> {
    throw new Error('not part of submit');
  }

  async delete(): Promise<boolean> {
    throw new Error('not part of submit');
  }

  async deleteByExternalId(): Promise<string | null> {
    throw new Error('not part of submit');
  }

  async exists(): Promise<boolean> {
    throw new Error('not part of submit');
  }

  async lockKeys(): Promise<void> {
    throw new Error('not part of submit');
  }

  async insertMany(): Promise<Map<string, number>> {
    throw new Error('not part of submit');
  }
}

class FakeIdempotency implements IdempotencyStore {
  constructor(private readonly db: FakeDatabase) {}

  async lockAndRecall<A extends StoredAnswer = SubmitAnswer>(_em: EntityManager, key: string): Promise<RememberedAnswer<A> | null> {
    return (this.db.keys.get(key) as RememberedAnswer<A> | undefined) ?? null;
  }

  async remember(_em: EntityManager, key: string, requestSha256: string, answer: StoredAnswer): Promise<void> {
    if (this.db.keys.has(key)) throw new Error(`duplicate key ${key}`);
    this.db.keys.set(key, { requestSha256, answer: answer as SubmitAnswer });
  }
}

class UnusedReads implements DocumentReadStore {
  async findWithModel(): Promise<DocumentWithModel | null> {
    throw new Error('not part of submit');
  }
  async list(): Promise<DocumentPage<DocumentWithModel>> {
    throw new Error('not part of submit');
  }
  async attemptHistory(): Promise<AttemptRecord[]> {
    throw new Error('not part of submit');
  }
  async usage(): Promise<NamespaceUsage> {
    throw new Error('not part of submit');
  }
}

class FakeIngestJobs implements IngestJobs {
  readonly jobs: IngestDocumentPayload[] = [];

  constructor(private readonly db: FakeDatabase) {}

  async enqueue(payload: IngestDocumentPayload): Promise<boolean> {
    this.jobs.push(payload);
    this.db.log.push(`enqueue ${payload.documentId} v${payload.version}`);
    return true;
  }
}

describe('DocumentsService.submit', () => {
  let db: FakeDatabase;
  let jobs: FakeIngestJobs;
  let drain: DrainState;
  let service: DocumentsService;

  beforeEach(() => {
    db = new FakeDatabase();
    jobs = new FakeIngestJobs(db);
    drain = new DrainState();
    // Chunking in characters (1000 / 150), contextual, as the hash provider configures it.
    const config = loadConfig({ EMBEDDING_PROVIDER: 'hash' });
    service = new DocumentsService(new FakeVersions(db), new UnusedReads(), new FakeIdempotency(db), jobs, config, drain);
  });

  const post = (body: Partial<CreateDocumentDto>, key?: string): Promise<SubmitAnswer> =>
    service.submit({ content: 'some text to index', ...body }, key);

  /** Moves the stored document as a worker would have. */
  const settle = (id: string, status: 'ready' | 'failed'): void => {
    Object.assign(db.documents.get(id) as DocumentEntity, { status });
  };

  it('records a new document, answers 202 and enqueues its version after the commit', async () => {
    const answer = await post({ externalId: 'a', title: 'A' });
    expect(answer).toEqual({
      statusCode: 202,
      body: { id: expect.any(String), status: 'queued', version: 1, deduplicated: false, statusUrl: `/v1/documents/${answer.body.id}` },
    });
    expect(db.log).toEqual(['begin', 'commit', `enqueue ${answer.body.id} v1`]);
    const stored = db.documents.get(answer.body.id) as DocumentEntity;
    // No model: this process cannot know which model the workers will embed with.
    expect(stored.pipeline).toEqual({ chunkSize: 1000, chunkOverlap: 150, chunkUnit: 'chars', contextual: true, splitter: SPLITTER_VERSION });
  });

  it('answers 200 deduplicated and enqueues nothing for the same content and settings under the same externalId', async () => {
    const first = await post({ externalId: 'same' });
    settle(first.body.id, 'ready');
    const again = await post({ externalId: 'same' });
    expect(again).toEqual({ statusCode: 200, body: { ...first.body, status: 'ready', deduplicated: true } });
    expect(jobs.jobs).toEqual([{ documentId: first.body.id, version: 1 }]);
  });

  it('queues a new version when the content changes', async () => {
    const first = await post({ externalId: 'changing', content: 'first words' });
    settle(first.body.id, 'ready');
    const second = await post({ externalId: 'changing', content: 'second words' });
    expect(second).toMatchObject({ statusCode: 202, body: { id: first.body.id, status: 'queued', version: 2, deduplicated: false } });
    expect(jobs.jobs).toEqual([
      { documentId: first.body.id, version: 1 },
      { documentId: first.body.id, version: 2 },
    ]);
  });

  it('processes a failed document again when it is re-posted unchanged', async () => {
    const first = await post({ externalId: 'flaky' });
    settle(first.body.id, 'failed');
    const again = await post({ externalId: 'flaky' });
    expect(again).toMatchObject({ statusCode: 202, body: { id: first.body.id, status: 'queued', version: 2, deduplicated: false } });
    expect(jobs.jobs.at(-1)).toEqual({ documentId: first.body.id, version: 2 });
  });

  it('deduplicates a row stored while the pipeline named a model, so upgrading reprocesses nothing', async () => {
    // Such a row's pipeline names the model of the API process that took it, and its stored hash covers it.
    const content = 'some text to index';
    const model = 'local:all-MiniLM-L6-v2';
    const pipeline: PipelineConfig = { chunkSize: 1000, chunkOverlap: 150, chunkUnit: 'chars', contextual: true, splitter: SPLITTER_VERSION, model };
    const legacyHash = sha256Hex(JSON.stringify([1000, 150, model, true, SPLITTER_VERSION])).slice(0, 16);
    const stored = { namespace: 'legacy', externalId: 'old', title: null, metadata: {}, content, contentSha256: sha256Hex(content) };
    const old = db.store({ ...stored, pipeline, pipelineHash: legacyHash }, { status: 'ready' });
    const again = await post({ namespace: 'legacy', externalId: 'old', content });
    expect(again).toMatchObject({ statusCode: 200, body: { id: old.id, version: 1, deduplicated: true } });
    expect(jobs.jobs).toEqual([]);
  });

  it('replays the first answer for a repeated Idempotency-Key, even after the document moved on, and enqueues once', async () => {
    const first = await post({ externalId: 'keyed', content: 'v1' }, 'key-1');
    await post({ externalId: 'keyed', content: 'v2' });
    const replay = await post({ externalId: 'keyed', content: 'v1' }, 'key-1');
    expect(replay).toEqual(first);
    expect(jobs.jobs).toEqual([
      { documentId: first.body.id, version: 1 },
      { documentId: first.body.id, version: 2 },
    ]);
  });

  it('answers 422 for a used Idempotency-Key with another body, recording and enqueuing nothing', async () => {
    const first = await post({ externalId: 'k', content: 'original' }, 'key-2');
    await expect(post({ externalId: 'k', content: 'different' }, 'key-2')).rejects.toBeInstanceOf(UnprocessableEntityException);
    expect(db.documents.get(first.body.id)).toMatchObject({ version: 1 });
    expect(jobs.jobs).toHaveLength(1);
    expect(db.log.at(-1)).toBe('rollback');
  });

  it.each([
    ['empty', ''],
    ['with a space', 'two words'],
    ['non-ASCII', 'clé'],
    ['over 255 characters', 'k'.repeat(256)],
  ])('answers 400 for an Idempotency-Key %s, before touching the database', async (_name, key) => {
    await expect(post({}, key)).rejects.toBeInstanceOf(BadRequestException);
    expect(db.log).toEqual([]);
  });

  it('answers 503 while the process drains, before touching the database', async () => {
    drain.start();
    await expect(post({})).rejects.toBeInstanceOf(ServiceUnavailableException);
    expect(db.log).toEqual([]);
    expect(jobs.jobs).toEqual([]);
  });

  it('answers 400 when the requested overlap is not below the size', async () => {
    await expect(post({ chunking: { size: 100, overlap: 100 } })).rejects.toThrow(/overlap \(100\) must be smaller than chunking.size \(100\)/);
    await expect(post({ chunking: { size: 100, overlap: 150 } })).rejects.toBeInstanceOf(BadRequestException);
    expect(db.log).toEqual([]);
  });
});
