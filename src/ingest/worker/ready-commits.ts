import { AsyncLocalStorage } from 'node:async_hooks';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { AttemptRecord, ClaimedDocument, DocumentsRepository, EmbeddingUsageRecord } from '../../documents/documents.repository';
import { Generation, GenerationChangedError } from '../../vector-store/generations/generation';
import { GenerationChunks, GenerationWriter } from '../../vector-store/generations/generation-writer';
import { currentDeadline, runOutsideDeadline } from './job-deadline';

/** A claimed document whose chunks are embedded: what its final transaction writes. */
export interface FinishedDocument {
  doc: ClaimedDocument;
  writes: GenerationChunks[];
  chunkCount: number;
  usage: EmbeddingUsageRecord;
  /** The `ready` attempt, recorded with the chunks. */
  attempt: AttemptRecord;
}

/** 'stale' when the version was no longer being processed at the write (nothing written). */
export type CommitOutcome = 'ready' | 'stale';

export type CommitDocuments = Pick<
  DocumentsRepository,
  'transaction' | 'lockProcessing' | 'lockProcessingMany' | 'markReady' | 'markReadyMany' | 'recordAttempt' | 'recordAttempts'
>;
export type CommitWriter = Pick<GenerationWriter, 'hold' | 'replace' | 'replaceMany'>;

/** How finished documents are grouped into transactions (see ReadyCommits). */
export interface CommitGrouping {
  /** Documents per transaction at most; 1 writes each alone. */
  maxDocs: number;
  /** Chunk rows per transaction at most (a document with more still goes, alone). */
  maxChunks: number;
  /** How long the first document of an idle writer waits for others to join it. */
  windowMs: number;
}

const ALONE: CommitGrouping = { maxDocs: 1, maxChunks: 1, windowMs: 0 };

interface Waiting {
  finished: FinishedDocument;
  /** Runs work in the caller's own context, so its job's deadline holds the connection. */
  inCaller: <R>(work: () => R) => R;
  /** Milliseconds left before the caller's job deadline, when it has one. */
  deadlineLeftMs: () => number | undefined;
  resolve: (outcome: CommitOutcome) => void;
  reject: (err: unknown) => void;
}

/**
 * Writes finished documents (their chunks, `ready`, the attempt) in groups: one
 * transaction, and a handful of statements, for every document that finished while the
 * previous group was being written (or within `windowMs` of an idle writer). With the
 * HNSW index present a commit per document costs Postgres far more than the rows do.
 *
 * Each document stays all-or-nothing: a group commits whole or not at all, and when a
 * group fails for any reason but a generation change, each of its documents is written
 * again alone, so one bad document fails only itself. A document whose version moved on
 * meanwhile is answered 'stale' and not written. Each caller is answered only after its
 * document's transaction committed. One group is written at a time per process. A
 * document written alone is written in its caller's context, under its job's deadline;
 * a group runs outside every job's (a connection shared by several jobs is no one's to
 * cut) and bounds its statements by the earliest of them instead. A job that expires
 * while waiting fails by itself; its document, if written later, is then no longer
 * `processing`, and so stale.
 */
@Injectable()
export class ReadyCommits {
  private readonly logger = new Logger(ReadyCommits.name);
  private readonly grouping: CommitGrouping;
  private readonly waiting: Waiting[] = [];
  private writing = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(DocumentsRepository) private readonly documents: CommitDocuments,
    @Inject(GenerationWriter) private readonly writer: CommitWriter,
    @Optional() @Inject(APP_CONFIG) config?: AppConfig,
  ) {
    this.grouping = config?.queue.commitGrouping ?? ALONE;
  }

  /** Writes `finished` (grouped with others when grouping is on); resolves once committed. */
  commit(finished: FinishedDocument): Promise<CommitOutcome> {
    if (this.grouping.maxDocs <= 1) return this.commitAlone(finished);
    return new Promise<CommitOutcome>((resolve, reject) => {
      const deadline = currentDeadline();
      this.waiting.push({ finished, resolve, reject, inCaller: AsyncLocalStorage.snapshot(), deadlineLeftMs: () => deadline?.leftMs() });
      this.schedule(this.grouping.windowMs);
    });
  }

  /** The transaction of one document: hold its generations, lock it, replace its chunks, mark it ready. */
  async commitAlone(f: FinishedDocument): Promise<CommitOutcome> {
    return this.documents.transaction(async (em): Promise<CommitOutcome> => {
      await this.writer.hold(em, f.writes.map((w) => w.generation));
      if (!(await this.documents.lockProcessing(em, f.doc.id, f.doc.version))) return 'stale';
      await this.writer.replace(em, f.doc, f.doc.version, f.writes);
      await this.documents.markReady(em, f.doc.id, f.doc.version, f.chunkCount, f.usage);
      await this.documents.recordAttempt(f.attempt, em);
      return 'ready';
    });
  }

  private schedule(delayMs: number): void {
    if (this.writing || this.timer || this.waiting.length === 0) return;
    // Outside the caller's job context: the group's connection belongs to no one job.
    this.timer = runOutsideDeadline(() => setTimeout(() => void this.writeNextGroup(), delayMs));
  }

  private async writeNextGroup(): Promise<void> {
    this.timer = undefined;
    this.writing = true;
    const group = this.takeGroup();
    try {
      await this.writeGroup(group);
    } finally {
      this.writing = false;
      // Those that arrived meanwhile have waited a whole write already: no window for them.
      this.schedule(0);
    }
  }

  /** The oldest waiting documents, up to the group's limits (always at least one). */
  private takeGroup(): Waiting[] {
    let chunks = 0;
    let n = 0;
    while (n < this.waiting.length && n < this.grouping.maxDocs) {
      const rows = this.waiting[n].finished.writes.reduce((s, w) => s + w.chunks.length, 0);
      if (n > 0 && chunks + rows > this.grouping.maxChunks) break;
      chunks += rows;
      n++;
    }
    return this.waiting.splice(0, n);
  }

  private async writeGroup(group: Waiting[]): Promise<void> {
    if (group.length === 1) {
      await this.settleAlone(group[0]);
      return;
    }
    let outcomes: Map<Waiting, CommitOutcome>;
    try {
      outcomes = await this.documents.transaction(async (em) => {
        // No job's deadline can cut this connection: the group gives up by itself before the
        // earliest of them, and its documents are then written alone, each under its own.
        const left = group.map((w) => w.deadlineLeftMs()).filter((ms): ms is number => ms !== undefined);
        if (left.length > 0) await em.query(`SET LOCAL statement_timeout = ${Math.max(100, Math.trunc(Math.min(...left)))}`);
        return this.writeTogether(em, group);
      });
    } catch (err) {
      if (err instanceof GenerationChangedError) {
        // Every document embeds again for the generations now live (the pipeline's retry).
        for (const w of group) w.reject(err);
        return;
      }
      this.logger.warn(`a group of ${group.length} documents failed to commit (${String(err)}): writing each alone`);
      for (const w of group) await this.settleAlone(w);
      return;
    }
    for (const w of group) w.resolve(outcomes.get(w) as CommitOutcome);
  }

  private async settleAlone(w: Waiting): Promise<void> {
    try {
      w.resolve(await w.inCaller(() => this.commitAlone(w.finished)));
    } catch (err) {
      w.reject(err);
    }
  }

  /** One transaction for the group, in the order a single document's takes its locks. */
  private async writeTogether(em: EntityManager, group: Waiting[]): Promise<Map<Waiting, CommitOutcome>> {
    await this.writer.hold(em, distinctGenerations(group.flatMap((w) => w.finished.writes.map((x) => x.generation))));
    const processing = await this.documents.lockProcessingMany(em, group.map((w) => w.finished.doc));
    const outcomes = new Map<Waiting, CommitOutcome>();
    const ready: FinishedDocument[] = [];
    for (const w of group) {
      const { doc } = w.finished;
      // A document twice in a group (a duplicate job) is written once: the second would find it ready.
      const writable = processing.delete(doc.id);
      outcomes.set(w, writable ? 'ready' : 'stale');
      if (writable) ready.push(w.finished);
    }
    if (ready.length === 0) return outcomes;
    await this.writer.replaceMany(em, ready.map((f) => ({ doc: f.doc, coveredVersion: f.doc.version, writes: f.writes })));
    await this.documents.markReadyMany(em, ready.map((f) => ({ id: f.doc.id, version: f.doc.version, chunkCount: f.chunkCount, usage: f.usage })));
    await this.documents.recordAttempts(em, ready.map((f) => f.attempt));
    return outcomes;
  }
}


/** Each generation once (by id and status), in first-seen order. */
function distinctGenerations(generations: Generation[]): Generation[] {
  const seen = new Map<string, Generation>();
  for (const g of generations) seen.set(`${g.id}:${g.status}`, seen.get(`${g.id}:${g.status}`) ?? g);
  return [...seen.values()];
}
