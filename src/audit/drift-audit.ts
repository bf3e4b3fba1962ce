import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { DocumentsRepository, StaleDocument } from '../documents/documents.repository';
import { DeadLetterQueue } from '../ingest/queue/dead-letter.queue';
import { deadLetterJobId } from '../ingest/queue/ingest.jobs';
import { IngestQueue, isLive } from '../ingest/queue/ingest.queue';
import { AuditEventsRepository } from './audit-events.repository';
import { AuditAction, AuditedFinding, DRIFT_KINDS, DriftFinding, DriftKind, SCAN_START, ScanCursor, ScanWindow } from './drift';
import { DriftQueries, DriftScope } from './drift-queries.repository';
import { DriftRepairs } from './drift-repairs.repository';

/** Where each scanning check resumes; a background auditor keeps one across passes. */
export interface AuditCursors {
  documents: ScanCursor;
  chunks: ScanCursor;
  failed: ScanCursor;
  waiting: StaleDocument | undefined;
}

export function freshCursors(): AuditCursors {
  return { documents: SCAN_START, chunks: SCAN_START, failed: SCAN_START, waiting: undefined };
}

export interface AuditPassOptions {
  namespace: string | null;
  repair: boolean;
  /** Windows each scanning check may read in this pass (the background pass reads one, a report reads on to the end). */
  windows: number;
  cursors: AuditCursors;
  /** Record findings and actions in `audit_events` (the auditor's passes; not an on-demand report). */
  record: boolean;
}

/** Per kind: findings and the actions taken. */
export type AuditSummary = Record<DriftKind, { found: number; rows: number; actions: Partial<Record<AuditAction, number>> }>;

export interface AuditReport {
  passId: string;
  namespace: string | null;
  repair: boolean;
  /** Every scanning check reached the end of its table in this pass. */
  complete: boolean;
  startedAt: string;
  finishedAt: string;
  kinds: AuditSummary;
  findings: AuditedFinding[];
}

/**
 * One audit pass: every check of `DRIFT_KINDS`, each bounded (a window of rows and at most
 * AUDIT_BATCH findings), then the safe repair of each finding when `repair` is on, and a
 * record of every finding and action in `audit_events`. Repairs never guess: documents are
 * re-enqueued to be rebuilt from their stored text, and only rows nothing can reach (chunks
 * of deleted documents, cache entries of models no generation uses) are deleted.
 */
@Injectable()
export class DriftAudit {
  constructor(
    private readonly queries: DriftQueries,
    private readonly repairs: DriftRepairs,
    private readonly events: AuditEventsRepository,
    private readonly documents: DocumentsRepository,
    private readonly queue: IngestQueue,
    private readonly deadLetters: DeadLetterQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async run(options: AuditPassOptions): Promise<AuditReport> {
    const passId = randomUUID();
    const startedAt = new Date().toISOString();
    const a = this.config.healing.audit;
    const scope: DriftScope = { namespace: options.namespace, scanRows: a.scanRows, limit: a.batch };
    const c = options.cursors;
    const findings: DriftFinding[] = [];
    let complete = true;
    const scan = async (from: ScanCursor, window: (after: ScanCursor) => Promise<ScanWindow>): Promise<ScanCursor> => {
      let cursor: ScanCursor | null = from;
      for (let i = 0; i < options.windows && cursor !== null; i++) {
        const w: ScanWindow = await window(cursor);
        findings.push(...w.findings);
        cursor = w.next;
      }
      if (cursor !== null) complete = false;
      return cursor ?? SCAN_START;
    };

    c.documents = await scan(c.documents, (after) => this.queries.chunkCountMismatches(after, scope));
    const active = await this.queries.activeModel();
    if (active) c.chunks = await scan(c.chunks, (after) => this.queries.chunkScan(after, scope, active));
    findings.push(...(await this.stuckDocuments(scope, options)));
    findings.push(...(await this.missingDeadLetters(scope, options)));
    if (options.namespace === null) findings.push(...(await this.staleCacheModels(scope.limit)));

    const audited: AuditedFinding[] = [];
    for (const f of findings) {
      audited.push(options.repair ? await this.repair(f, active) : { ...f, action: 'reported' });
    }
    if (options.record) await this.events.record(passId, audited);
    return { passId, namespace: options.namespace, repair: options.repair, complete, startedAt, finishedAt: new Date().toISOString(), kinds: summarise(audited), findings: audited };
  }

  /** Documents queued or processing for longer than RECONCILE_AGE_MS with no live job. */
  private async stuckDocuments(scope: DriftScope, options: AuditPassOptions): Promise<DriftFinding[]> {
    const found: DriftFinding[] = [];
    for (let i = 0; i < options.windows; i++) {
      const page = await this.documents.findStale(this.config.queue.reconcileAgeMs, scope.limit, { after: options.cursors.waiting, namespace: scope.namespace });
      for (const d of page) {
        const state = await this.queue.jobStateOf({ documentId: d.id, version: d.version });
        if (isLive(state)) continue;
        found.push({ kind: 'stuck_documents', namespace: d.namespace, documentId: d.id, count: 1, detail: { version: d.version, status: d.status, since: d.updatedAt, job: state } });
      }
      options.cursors.waiting = page.length < scope.limit ? undefined : page[page.length - 1];
      if (options.cursors.waiting === undefined) break;
    }
    return found;
  }

  /** Failed documents whose copy on the dead-letter queue is missing. */
  private async missingDeadLetters(scope: DriftScope, options: AuditPassOptions): Promise<DriftFinding[]> {
    const found: DriftFinding[] = [];
    for (let i = 0; i < options.windows; i++) {
      const page = await this.queries.failedDocuments(options.cursors.failed, scope);
      for (const d of page) {
        if ((await this.deadLetters.jobState(deadLetterJobId({ documentId: d.id, version: d.version }))) !== 'unknown') continue;
        found.push({
          kind: 'failed_without_dead_letter', namespace: d.namespace, documentId: d.id, count: 1,
          detail: { version: d.version, attempts: d.attempts, errorClass: d.lastErrorClass, error: d.lastError, stage: d.failedStage, failedAt: d.updatedAt },
        });
      }
      options.cursors.failed = page.length < scope.limit ? SCAN_START : page[page.length - 1].id;
      if (options.cursors.failed === SCAN_START) break;
    }
    return found;
  }

  private async staleCacheModels(limit: number): Promise<DriftFinding[]> {
    const models = await this.queries.staleCacheModels();
    const found: DriftFinding[] = [];
    for (const m of models) {
      found.push({ kind: 'stale_cache_models', namespace: null, documentId: null, count: await this.queries.cacheEntries(m.model, m.dimension, limit), detail: m });
    }
    return found;
  }

  private async repair(f: DriftFinding, active: { model: string; dimension: number } | null): Promise<AuditedFinding> {
    const done = (action: AuditAction, count = f.count, detail: Record<string, unknown> = {}): AuditedFinding => ({ ...f, action, count, detail: { ...f.detail, ...detail } });
    const id = f.documentId as string;
    switch (f.kind) {
      case 'chunk_count_mismatch':
        return this.rebuild(f, id, f.detail.version as number);
      case 'orphan_chunks':
        return done('deleted', await this.repairs.deleteOrphanChunks(id));
      case 'foreign_model_chunks': {
        const state = await this.repairs.documentState(id);
        if (state === null || active === null) return done('reported', f.count, { document: 'gone' });
        if (state.status === 'ready') return this.rebuild(f, id, state.version);
        // A job in flight replaces every chunk of the document when it finishes.
        if (state.status !== 'failed') return done('left_to_job');
        return done('deleted', await this.repairs.deleteForeignChunks(id, active));
      }
      case 'stuck_documents': {
        const outcome = await this.queue.enqueueUnlessLive({ documentId: id, version: f.detail.version as number });
        return done(outcome === 'added' ? 'requeued' : 'reported', f.count, { enqueue: outcome });
      }
      case 'failed_without_dead_letter': {
        const d = f.detail;
        const ok = await this.deadLetters.deadLetter({
          original: { documentId: id, version: d.version as number },
          namespace: f.namespace as string,
          errorClass: (d.errorClass as string | null) ?? 'internal',
          error: (d.error as string | null) ?? '',
          stage: d.stage as string | null,
          attempts: d.attempts as number,
          failedAt: new Date(d.failedAt as string).toISOString(),
        });
        return done(ok ? 'dead_lettered' : 'reported');
      }
      case 'stale_cache_models': {
        const m = f.detail as { model: string; dimension: number };
        return done('deleted', await this.repairs.deleteCacheEntries(m.model, m.dimension, this.config.healing.audit.batch));
      }
    }
  }

  /** A ready document whose vectors are wrong is processed again from its stored text under a new version. */
  private async rebuild(f: DriftFinding, id: string, version: number): Promise<AuditedFinding> {
    const moved = await this.repairs.requeueReady(id, version);
    if (!moved) return { ...f, action: 'reported', detail: { ...f.detail, movedOn: true } };
    const enqueued = await this.queue.enqueue({ documentId: moved.id, version: moved.version });
    // Not enqueued (Redis away): the document is queued in Postgres and the reconciler adds its job.
    return { ...f, action: 'requeued', detail: { ...f.detail, newVersion: moved.version, enqueued } };
  }
}

function summarise(findings: AuditedFinding[]): AuditSummary {
  const summary = Object.fromEntries(DRIFT_KINDS.map((k) => [k, { found: 0, rows: 0, actions: {} }])) as AuditSummary;
  for (const f of findings) {
    const s = summary[f.kind];
    s.found++;
    s.rows += f.count;
    s.actions[f.action] = (s.actions[f.action] ?? 0) + 1;
  }
  return summary;
}
