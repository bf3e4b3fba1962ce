import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DocumentPage, PageCursor, pageOfDocuments } from './document-page';
import { IS_DEAD_LETTER, queueNextVersion } from './document-state.sql';

export interface DeadLetterFilter {
  namespace?: string;
  /** Only these namespaces (an API key's), when set. */
  namespaces?: string[];
  errorClass?: string;
  limit: number;
  cursor?: PageCursor;
}

/** Which dead letters to queue again: `ids`, or else those the namespace/errorClass filter picks. */
export interface DeadLetterSelection {
  ids?: string[];
  namespace?: string;
  namespaces?: string[];
  errorClass?: string;
  limit: number;
}

/**
 * Dead letters, as the API manages them: failed documents not discarded, listed from Postgres (so the list
 * survives Redis), queued again under a new version, or discarded (the document stays failed).
 */
@Injectable()
export class DeadLetterRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Newest failure first, keyset-paginated on (updated_at, id). */
  list(filter: DeadLetterFilter): Promise<DocumentPage> {
    return pageOfDocuments(this.db, {
      column: 'updated_at',
      limit: filter.limit,
      cursor: filter.cursor,
      where: (qb) => {
        qb.andWhere(IS_DEAD_LETTER);
        if (filter.namespace !== undefined) qb.andWhere('d.namespace = :namespace', { namespace: filter.namespace });
        if (filter.namespaces !== undefined) qb.andWhere('d.namespace = ANY(:namespaces)', { namespaces: filter.namespaces });
        if (filter.errorClass !== undefined) qb.andWhere('d.last_error_class = :ec', { ec: filter.errorClass });
      },
      item: (document) => document,
    });
  }

  /**
   * Queues the selected dead letters again under a new version (fresh attempts, new job id). When `limit` cuts
   * the selection the longest failed go first; those another request is requeuing at that moment are skipped.
   * Returns what moved.
   */
  requeue(sel: DeadLetterSelection): Promise<Array<{ id: string; version: number; namespace: string }>> {
    return queueNextVersion(this.db.manager, {
      where: `id IN (SELECT id FROM documents
                      WHERE ${IS_DEAD_LETTER}
                        AND ($1::uuid[] IS NULL OR id = ANY($1::uuid[]))
                        AND ($2::text IS NULL OR namespace = $2)
                        AND ($3::text IS NULL OR last_error_class = $3)
                        AND ($5::text[] IS NULL OR namespace = ANY($5::text[]))
                      ORDER BY updated_at
                      LIMIT $4
                      FOR UPDATE SKIP LOCKED)`,
      params: [sel.ids ?? null, sel.namespace ?? null, sel.errorClass ?? null, sel.limit, sel.namespaces ?? null],
    });
  }

  /** Takes a dead letter off the list; the document stays failed. Null if it is not a dead letter. */
  async discard(id: string): Promise<{ id: string; version: number } | null> {
    const [rows]: [Array<{ id: string; version: number }>, number] = await this.db.query(
      `UPDATE documents SET dead_letter_discarded_at = now()
        WHERE id = $1 AND ${IS_DEAD_LETTER}
        RETURNING id, version`,
      [id],
    );
    return rows[0] ?? null;
  }
}
