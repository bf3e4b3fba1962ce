import { BadRequestException, Inject, Injectable, Optional, PayloadTooLargeException, UnprocessableEntityException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { IngestQueue } from '../../ingest/queue/ingest.queue';
import { IngestDocumentPayload } from '../../ingest/queue/ingest.jobs';
import { STATUS_EVENTS, StatusEvents } from '../../events/status-events';
import { DocumentCallbacks } from '../../webhooks/api/document-callbacks';
import { DocumentVersionsRepository, NewDocument, StoredVersion } from '../document-versions.repository';
import { IdempotencyRepository } from '../idempotency.repository';
import { sha256Hex } from '../pipeline';
import { CheckedItem, checkBatchItem } from './batch-item';
import { NamespaceIndexes } from '../../vector-store/backfill/namespace-indexes.repository';
import { BackfillStarter, BulkIngestJobs, DocumentVersionStore, IdempotencyStore } from './documents.ports';
import { Principal, OPEN_PRINCIPAL, holdsNamespace } from '../../auth/principal';
import { DocumentsService, scopedIdempotencyKey } from './documents.service';
import { CreateDocumentBatchDto } from './dto/create-document-batch.dto';
import { BatchItemResult } from './dto/document.responses';
import { findUnchanged } from './unchanged-posts';

/** The answer to a batch, as sent and as stored for Idempotency-Key replays. */
export interface BatchAnswer {
  statusCode: 200;
  body: { results: BatchItemResult[] };
}

export type PreparedItem = { index: number; doc: NewDocument; callbackUrl?: string } | { index: number; error: string };

/**
 * `POST /v1/documents/batch`: each document is checked on its own (a bad one is rejected with its reason and the
 * others go on); the accepted ones are recorded in one transaction, then enqueued with one `addBulk`.
 */
@Injectable()
export class DocumentBatchService {
  constructor(
    private readonly documents: DocumentsService,
    @Inject(DocumentVersionsRepository) private readonly versions: DocumentVersionStore,
    @Inject(IdempotencyRepository) private readonly idempotency: IdempotencyStore,
    @Inject(IngestQueue) private readonly ingest: BulkIngestJobs,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(NamespaceIndexes) private readonly backfills: BackfillStarter,
    @Optional() @Inject(STATUS_EVENTS) private readonly events?: StatusEvents,
    @Optional() private readonly callbacks?: DocumentCallbacks,
  ) {}

  async submit(batch: CreateDocumentBatchDto, idempotencyKey?: string, principal: Principal = OPEN_PRINCIPAL): Promise<BatchAnswer> {
    this.documents.assertAccepting(idempotencyKey);
    const max = this.config.batch.maxDocuments;
    if (batch.documents.length > max) {
      throw new PayloadTooLargeException(`documents holds ${batch.documents.length} documents; a batch takes at most ${max} (BATCH_MAX_DOCUMENTS)`);
    }
    const items = await Promise.all(
      batch.documents.map((raw, index) => this.checkCallback(inNamespaceOf(principal, this.prepare(checkBatchItem(raw, index))))),
    );
    // Scoped to the caller, as a single post's key is (a batch may span namespaces).
    const scopedKey = idempotencyKey === undefined ? undefined : scopedIdempotencyKey(principal.id, '*batch', idempotencyKey);
    // Its own prefix: the same key reused between a single post and a batch (or a live and a backfill batch) is a different request.
    // Hashed only for a key: a batch's body runs to megabytes.
    const requestSha = scopedKey === undefined ? '' : sha256Hex(`${batch.mode === 'backfill' ? 'batch-backfill' : 'batch'}:${JSON.stringify(batch.documents)}`);
    const backfilled = batch.mode === 'backfill' ? items.flatMap((item) => ('doc' in item ? [item.doc.namespace] : [])) : [];
    // Before the documents exist: no worker may write their chunks the live way.
    await this.backfills.startBackfill(backfilled);
    // A re-posted corpus costs one read: what changes nothing is answered outside the transaction.
    const unchanged = scopedKey === undefined && batch.mode !== 'backfill' ? await this.unchangedOf(items) : new Map<number, StoredVersion>();
    const toRecord = items.filter((item) => !unchanged.has(item.index));
    const recorded =
      toRecord.length === 0
        ? { answer: { statusCode: 200 as const, body: { results: [] } }, enqueue: [] }
        : await this.record(toRecord, scopedKey, requestSha, backfilled);
    const { enqueue } = recorded;
    const answer: BatchAnswer = {
      statusCode: 200,
      body: {
        results: items.map((item): BatchItemResult => {
          const u = unchanged.get(item.index);
          return u ? { index: item.index, status: 'deduplicated', id: u.id, version: u.version } : recorded.answer.body.results[item.index];
        }),
      },
    };
    if (enqueue.length > 0) {
      // Announced before the jobs exist, so no worker's `processing` can overtake them.
      const itemById = new Map(answer.body.results.flatMap((r) => (r.id ? [[r.id, items[r.index]] as const] : [])));
      await Promise.all(
        enqueue.map(async (job) => {
          const item = itemById.get(job.documentId);
          if (item && 'doc' in item) {
            await this.events?.publish({ documentId: job.documentId, namespace: item.doc.namespace, version: job.version, status: 'queued' });
          }
        }),
      );
      await this.ingest.enqueueMany(enqueue);
    }
    return answer;
  }

  /** Records `items` in one transaction, or recalls the answer an Idempotency-Key already got. */
  private record(
    items: PreparedItem[],
    scopedKey: string | undefined,
    requestSha: string,
    backfilled: string[],
  ): Promise<{ answer: BatchAnswer; enqueue: IngestDocumentPayload[] }> {
    return this.versions.transaction(async (em) => {
      if (scopedKey !== undefined) {
        const prior = await this.idempotency.lockAndRecall<BatchAnswer>(em, scopedKey);
        if (prior) {
          if (prior.requestSha256 !== requestSha) {
            throw new UnprocessableEntityException('Idempotency-Key was already used with a different request body');
          }
          return { answer: prior.answer, enqueue: [] };
        }
      }
      if (backfilled.length > 0) await this.backfills.recordBatch(em, backfilled);
      const { results, enqueue } = await this.recordAll(em, items);
      const answer: BatchAnswer = { statusCode: 200, body: { results } };
      if (scopedKey !== undefined) await this.idempotency.remember(em, scopedKey, requestSha, answer);
      return { answer, enqueue };
    });
  }

  /** The items that change nothing stored, by index; none if that read fails (the transaction reads them again). */
  private unchangedOf(items: PreparedItem[]): Promise<Map<number, StoredVersion>> {
    return findUnchanged(this.versions, items.map((item) => ('doc' in item ? item.doc : null))).catch(() => new Map<number, StoredVersion>());
  }

  /**
   * Records the valid items in the caller's transaction; the result of each item at its `index` (a caller may
   * pass some of a batch's items), and the jobs to add after the commit.
   */
  async recordAll(em: EntityManager, items: PreparedItem[]): Promise<{ results: BatchItemResult[]; enqueue: IngestDocumentPayload[] }> {
    const results: BatchItemResult[] = [];
    // The version each document ends at: a document posted twice in one batch is processed once.
    const latest = new Map<string, number>();
    const accept = (index: number, id: string, version: number, deduplicated: boolean): void => {
      results[index] = { index, status: deduplicated ? 'deduplicated' : 'accepted', id, version };
      if (!deduplicated) latest.set(id, version);
    };
    const valid: Array<{ index: number; doc: NewDocument; callbackUrl?: string }> = [];
    for (const item of [...items].sort(byLockOrder)) {
      if ('error' in item) results[item.index] = { index: item.index, status: 'rejected', error: item.error };
      else valid.push(item);
    }
    await this.versions.lockKeys(em, keysOf(valid));
    // New documents go in with one INSERT (the first of each key; a repeat in the batch is a new version or a
    // duplicate of it); the rest (existing keys, repeats) are recorded one by one, in the same order.
    const firsts = firstOfEachKey(valid).map((item) => ({ ...item, id: randomUUID() }));
    const created = await this.versions.insertMany(em, firsts.map((f) => ({ ...f.doc, id: f.id })));
    const createdIndexes = new Set<number>();
    for (const f of firsts) {
      const version = created.get(f.id);
      if (version === undefined) continue;
      accept(f.index, f.id, version, false);
      createdIndexes.add(f.index);
    }
    for (const item of valid) {
      if (createdIndexes.has(item.index)) continue;
      const { document, deduplicated } = await this.documents.record(em, item.doc);
      accept(item.index, document.id, document.version, deduplicated);
    }
    for (const item of valid) {
      const result = results[item.index];
      if (this.callbacks && result.status === 'accepted' && result.id) await this.callbacks.record(em, result.id, item.callbackUrl ?? null);
    }
    return { results, enqueue: [...latest].map(([documentId, version]) => ({ documentId, version })) };
  }

  /** An item whose callbackUrl the webhook policy refuses is rejected with the reason. */
  private async checkCallback(item: PreparedItem): Promise<PreparedItem> {
    if (!('doc' in item) || item.callbackUrl === undefined) return item;
    if (!this.callbacks) return { index: item.index, error: 'callbackUrl needs webhooks, which are not configured' };
    try {
      return { ...item, callbackUrl: await this.callbacks.check(item.callbackUrl) };
    } catch (err) {
      if (err instanceof BadRequestException) return { index: item.index, error: err.message };
      throw err;
    }
  }

  private prepare(checked: CheckedItem): PreparedItem {
    if ('error' in checked) return checked;
    try {
      return { index: checked.index, doc: this.documents.prepare(checked.dto), callbackUrl: checked.dto.callbackUrl };
    } catch (err) {
      if (err instanceof BadRequestException) return { index: checked.index, error: err.message };
      throw err;
    }
  }
}

/** An item for a namespace the caller's key does not hold is rejected with the reason. */
function inNamespaceOf(principal: Principal, item: PreparedItem): PreparedItem {
  if (!('doc' in item) || holdsNamespace(principal, item.doc.namespace)) return item;
  return { index: item.index, error: `this API key does not hold namespace "${item.doc.namespace}"` };
}

/** The first item of each (namespace, externalId), and every item without an externalId. */
function firstOfEachKey<T extends { doc: NewDocument }>(items: T[]): T[] {
  const seen = new Set<string>();
  return items.filter(({ doc }) => {
    if (doc.externalId === null) return true;
    const key = `${doc.namespace}\u0000${doc.externalId}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function keysOf(items: Array<{ doc: NewDocument }>): Array<{ namespace: string; externalId: string }> {
  return firstOfEachKey(items).flatMap(({ doc }) => (doc.externalId === null ? [] : [{ namespace: doc.namespace, externalId: doc.externalId }]));
}

// Code-unit order, not the locale's: every replica must sort keys the same way.
function byLockOrder(a: PreparedItem, b: PreparedItem): number {
  const ka = lockKey(a);
  const kb = lockKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : a.index - b.index;
}

// Items without an externalId never conflict; they sort first, in request order.
function lockKey(item: PreparedItem): string {
  return 'doc' in item && item.doc.externalId !== null ? `1${item.doc.namespace}\u0000${item.doc.externalId}` : '0';
}
