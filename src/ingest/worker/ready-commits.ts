import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { AttemptRecord, ClaimedDocument, DocumentsRepository, EmbeddingUsageRecord } from '../../documents/documents.repository';
import { Generation, GenerationChangedError } from '../../vector-store/generations/generation';
import { GenerationChunks, GenerationWriter } from '../../vector-store/generations/generation-writer';
import { CommitGroups, Pending } from '../../common/commit-groups';
import { currentDeadline } from './job-deadline';

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

/** A finished document waiting for its group, and how long its job has left. */
interface Item {
  finished: FinishedDocument;
  deadlineLeftMs: () => number | undefined;
}
type Waiting = Pending<Item, CommitOutcome>;

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
  private readonly groups: CommitGroups<Item, CommitOutcome> | null;

  constructor(
    @Inject(DocumentsRepository) private readonly documents: CommitDocuments,
    @Inject(GenerationWriter) private readonly writer: CommitWriter,
    @Optional() @Inject(APP_CONFIG) config?: AppConfig,
  ) {
    const g = config?.queue.commitGrouping;
    this.groups =
      g && g.maxDocs > 1
        ? new CommitGroups<Item, CommitOutcome>(
            { maxItems: g.maxDocs, windowMs: g.windowMs, maxWeight: g.maxChunks, weight: (i) => i.finished.writes.reduce((n, w) => n + w.chunks.length, 0) },
            (group) => this.writeGroup(group),
          )
        : null;
  }

  /** Writes `finished` (grouped with others when grouping is on); resolves once committed. */
  commit(finished: FinishedDocument): Promise<CommitOutcome> {
    if (!this.groups) return this.commitAlone(finished);
    const deadline = currentDeadline();
    return this.groups.submit({ finished, deadlineLeftMs: () => deadline?.leftMs() });
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
        const left = group.map((w) => w.item.deadlineLeftMs()).filter((ms): ms is number => ms !== undefined);
        return this.writeTogether(em, group, left.length > 0 ? [`SET LOCAL statement_timeout = ${Math.max(100, Math.trunc(Math.min(...left)))}`] : []);
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
      w.resolve(await w.inCaller(() => this.commitAlone(w.item.finished)));
    } catch (err) {
      w.reject(err);
    }
  }

  /** One transaction for the group, in the order a single document's takes its locks. */
  private async writeTogether(em: EntityManager, group: Waiting[], settings: string[]): Promise<Map<Waiting, CommitOutcome>> {
    // The settings go in the lock's round trip, ahead of it.
    await this.writer.hold(em, distinctGenerations(group.flatMap((w) => w.item.finished.writes.map((x) => x.generation))), settings);
    const processing = await this.documents.lockProcessingMany(em, group.map((w) => w.item.finished.doc));
    const outcomes = new Map<Waiting, CommitOutcome>();
    const ready: FinishedDocument[] = [];
    for (const w of group) {
      const { doc } = w.item.finished;
      // A document twice in a group (a duplicate job) is written once: the second would find it ready.
      const writable = processing.delete(doc.id);
      outcomes.set(w, writable ? 'ready' : 'stale');
      if (writable) ready.push(w.item.finished);
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
