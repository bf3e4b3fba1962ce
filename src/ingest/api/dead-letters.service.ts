import { BadRequestException, Inject, Injectable, NotFoundException, Optional } from '@nestjs/common';
import { DocumentEntity } from '../../documents/document.entity';
import { STATUS_EVENTS, StatusEvents } from '../../events/status-events';
import { DeadLetterRepository } from '../../documents/dead-letter.repository';
import { decodeCursor } from '../../documents/document-page';
import { DocumentReadsRepository } from '../../documents/document-reads.repository';
import { AttemptRecord } from '../../documents/documents.repository';
import { DeadLetterQueue } from '../queue/dead-letter.queue';
import { ListDeadLettersQuery, RetryDeadLettersDto } from './dto/dead-letters.query';
import { publicErrorMessage } from '../../documents/public-error';
import { IngestQueue } from '../queue/ingest.queue';

export interface DeadLetterView {
  id: string;
  documentId: string;
  namespace: string;
  externalId: string | null;
  payload: { documentId: string; version: number };
  errorClass: string | null;
  error: string | null;
  stage: string | null;
  attempts: number;
  failedAt: string;
  history: Array<{ attempt: number; at: string; outcome: string; stage: string | null; errorClass: string | null; error: string | null }>;
}

/**
 * Dead letters are the failed documents not discarded: listed from Postgres (so the list
 * survives Redis), re-queued as a new version (fresh attempts, new job id), or discarded.
 */
@Injectable()
export class DeadLettersService {
  constructor(
    private readonly documents: DeadLetterRepository,
    private readonly reads: DocumentReadsRepository,
    private readonly queue: IngestQueue,
    private readonly deadLetters: DeadLetterQueue,
    @Optional() @Inject(STATUS_EVENTS) private readonly events?: StatusEvents,
  ) {}

  /** `namespaces` narrows the list to an API key's namespaces. */
  async list(q: ListDeadLettersQuery, namespaces?: string[]): Promise<{ items: DeadLetterView[]; nextCursor: string | null }> {
    let cursor: { createdAt: string; id: string } | undefined;
    if (q.cursor !== undefined) {
      cursor = decodeCursor(q.cursor) ?? undefined;
      if (!cursor) throw new BadRequestException('cursor is not valid: pass the nextCursor of a previous page');
    }
    const page = await this.documents.list({ namespace: q.namespace, namespaces, errorClass: q.errorClass, limit: q.limit ?? 20, cursor });
    const items = await Promise.all(page.items.map(async (d) => toView(d, await this.reads.attemptHistory(d.id, 20))));
    return { items, nextCursor: page.nextCursor };
  }

  async retry(id: string): Promise<{ id: string; status: 'queued'; version: number }> {
    const [doc] = await this.documents.requeue({ ids: [id], limit: 1 });
    if (!doc) throw new NotFoundException(`no dead letter for document ${id}`);
    await this.afterRequeue(doc);
    return { id: doc.id, status: 'queued', version: doc.version };
  }

  async retryMany(dto: RetryDeadLettersDto, namespaces?: string[]): Promise<{ requeued: number; ids: string[] }> {
    const docs = await this.documents.requeue({ namespace: dto.namespace, namespaces, errorClass: dto.errorClass, limit: dto.limit ?? 1000 });
    for (const doc of docs) await this.afterRequeue(doc);
    return { requeued: docs.length, ids: docs.map((d) => d.id) };
  }

  async discard(id: string): Promise<void> {
    const doc = await this.documents.discard(id);
    if (!doc) throw new NotFoundException(`no dead letter for document ${id}`);
    await this.deadLetters.removeDeadLetter({ documentId: doc.id, version: doc.version });
  }

  private async afterRequeue(doc: { id: string; version: number; namespace: string }): Promise<void> {
    await this.events?.publish({ documentId: doc.id, namespace: doc.namespace, version: doc.version, status: 'queued' });
    await this.queue.enqueue({ documentId: doc.id, version: doc.version });
    await this.deadLetters.removeDeadLetter({ documentId: doc.id, version: doc.version - 1 });
  }
}

function toView(d: DocumentEntity, history: AttemptRecord[]): DeadLetterView {
  return {
    id: d.id,
    documentId: d.id,
    namespace: d.namespace,
    externalId: d.externalId,
    payload: { documentId: d.id, version: d.version },
    errorClass: d.lastErrorClass,
    error: publicErrorMessage(d.lastErrorClass, d.lastError),
    stage: d.failedStage,
    attempts: d.attempts,
    failedAt: (d.completedAt ?? d.updatedAt).toISOString(),
    history: history
      .filter((h) => h.version === d.version)
      .map((h) => ({
        attempt: h.attempt,
        at: (h.finishedAt ?? h.startedAt).toISOString(),
        outcome: h.outcome,
        stage: h.stage,
        errorClass: h.errorClass,
        error: publicErrorMessage(h.errorClass, h.message),
      })),
  };
}
