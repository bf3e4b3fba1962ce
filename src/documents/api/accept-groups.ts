import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { CommitGroups, Pending } from '../../common/commit-groups';
import { STATUS_EVENTS, StatusEvents } from '../../events/status-events';
import { IngestQueue } from '../../ingest/queue/ingest.queue';
import { setLogDocument } from '../../observability/logging/log-context';
import { DocumentVersionsRepository, NewDocument, StoredVersion } from '../document-versions.repository';
import { sha256Hex } from '../pipeline';
import { SubmitAnswer } from '../submit-answer';
import { DocumentBatchService } from './document-batch.service';
import { BulkIngestJobs, DocumentVersionStore } from './documents.ports';
import { DocumentsService } from './documents.service';
import { CreateDocumentDto } from './dto/create-document.dto';
import { findUnchanged } from './unchanged-posts';

/** A prepared document waiting for its group, and its request's fingerprint (for answering it alone). */
interface Item {
  doc: NewDocument;
  requestSha: string;
}

/**
 * `POST /v1/documents` under load: the plain posts (no Idempotency-Key, no callbackUrl)
 * that arrive together share one transaction, as a batch's documents do (one INSERT for
 * the new ones, see DocumentBatchService.recordAll), and their jobs one `addBulk`. A
 * commit per request is what bounded the accept rate. Every request is still answered
 * only after its document committed and its job was added, with the answer it would get
 * alone; if a group fails, each of its documents is recorded again alone, so one bad
 * document fails only its own request. Posts that change nothing stored are answered from
 * one read, before any transaction. Posts with a key or a callback take the single path.
 */
@Injectable()
export class AcceptGroups {
  private readonly logger = new Logger(AcceptGroups.name);
  private readonly groups: CommitGroups<Item, SubmitAnswer> | null;

  constructor(
    private readonly documents: DocumentsService,
    private readonly batches: DocumentBatchService,
    @Inject(DocumentVersionsRepository) private readonly versions: DocumentVersionStore,
    @Inject(IngestQueue) private readonly ingest: BulkIngestJobs,
    @Inject(APP_CONFIG) config: AppConfig,
    @Optional() @Inject(STATUS_EVENTS) private readonly events?: StatusEvents,
  ) {
    const g = config.batch.acceptGroup;
    this.groups = g.maxDocs > 1 ? new CommitGroups<Item, SubmitAnswer>({ maxItems: g.maxDocs, windowMs: g.windowMs }, (group) => this.writeGroup(group)) : null;
  }

  /** What `DocumentsService.submit` answers, grouped with concurrent posts when it can be. */
  async submit(dto: CreateDocumentDto, idempotencyKey?: string, owner = 'open'): Promise<SubmitAnswer> {
    if (!this.groups || idempotencyKey !== undefined || dto.callbackUrl !== undefined) return this.documents.submit(dto, idempotencyKey, owner);
    this.documents.assertAccepting(undefined);
    return this.groups.submit({ doc: this.documents.prepare(dto), requestSha: sha256Hex(JSON.stringify(dto)) });
  }

  private async writeGroup(all: Array<Pending<Item, SubmitAnswer>>): Promise<void> {
    const group = await this.answerUnchanged(all);
    if (group.length === 0) return;
    if (group.length === 1) return this.settleAlone(group[0]);
    let answers: SubmitAnswer[];
    let jobs: Array<{ documentId: string; version: number }>;
    try {
      ({ answers, jobs } = await this.versions.transaction(async (em) => {
        const { results, enqueue } = await this.batches.recordAll(em, group.map((p, index) => ({ index, doc: p.item.doc })));
        const deduplicated = results.filter((r) => r.status === 'deduplicated').map((r) => r.id as string);
        const statuses = await this.versions.statusesOf(em, deduplicated);
        return {
          answers: results.map((r): SubmitAnswer => {
            const id = r.id as string;
            const dedup = r.status === 'deduplicated';
            const body = { id, status: dedup ? (statuses.get(id) ?? 'queued') : 'queued', version: r.version as number, deduplicated: dedup, statusUrl: `/v1/documents/${id}` };
            return { statusCode: dedup ? 200 : 202, body };
          }),
          jobs: enqueue,
        };
      }));
    } catch (err) {
      this.logger.warn(`a group of ${group.length} posted documents failed to commit (${String(err)}): recording each alone`);
      await Promise.all(group.map((p) => this.settleAlone(p)));
      return;
    }
    if (jobs.length > 0) {
      // Announced before the jobs exist, so no worker's `processing` can overtake them.
      const namespaceOf = new Map(answers.map((a, i) => [a.body.id, group[i].item.doc.namespace]));
      await Promise.all(jobs.map((j) => this.events?.publish({ documentId: j.documentId, namespace: namespaceOf.get(j.documentId) as string, version: j.version, status: 'queued' })));
      await this.ingest.enqueueMany(jobs);
    }
    group.forEach((p, i) => {
      p.inCaller(() => setLogDocument(answers[i].body.id, answers[i].body.version));
      p.resolve(answers[i]);
    });
  }

  /** Answers the posts that change nothing stored (`deduplicated`) from one read (see findUnchanged); returns the posts still to record. */
  private async answerUnchanged(group: Array<Pending<Item, SubmitAnswer>>): Promise<Array<Pending<Item, SubmitAnswer>>> {
    let unchanged: Map<number, StoredVersion>;
    try {
      unchanged = await findUnchanged(this.versions, group.map((p) => p.item.doc));
    } catch {
      return group; // the transaction path reads them again, and reports its own failure
    }
    return group.filter((p, i) => {
      const existing = unchanged.get(i);
      if (!existing) return true;
      p.inCaller(() => setLogDocument(existing.id, existing.version));
      const body = { id: existing.id, status: existing.status, version: existing.version, deduplicated: true, statusUrl: `/v1/documents/${existing.id}` };
      p.resolve({ statusCode: 200, body });
      return false;
    });
  }

  private async settleAlone(p: Pending<Item, SubmitAnswer>): Promise<void> {
    try {
      p.resolve(await p.inCaller(() => this.documents.accept(p.item.doc, p.item.requestSha)));
    } catch (err) {
      p.reject(err);
    }
  }
}
