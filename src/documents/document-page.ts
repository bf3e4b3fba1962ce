import { DataSource, SelectQueryBuilder } from 'typeorm';
import { DocumentEntity } from './document.entity';

/** One page of a listing and the cursor of the next (null on the last page). */
export interface DocumentPage<T = DocumentEntity> {
  items: T[];
  nextCursor: string | null;
}

/** Where the previous page ended: the sort timestamp and id of its last item. */
export interface PageCursor {
  createdAt: string;
  id: string;
}

/** What one listing asks of `pageOfDocuments`. */
export interface PageQuery<T, R extends object> {
  /** Sorts newest first by this column, then by id. */
  column: 'created_at' | 'updated_at';
  limit: number;
  cursor: PageCursor | undefined;
  /** Adds the listing's conditions (and any extra selects) to the query on `documents d`. */
  where: (qb: SelectQueryBuilder<DocumentEntity>) => void;
  /** Turns a row into an item; `raw` holds the extra selects by alias. */
  item: (entity: DocumentEntity, raw: R) => T;
}

/** One page of documents newest first by `q.column`, keyset-paginated on (column, id). */
export async function pageOfDocuments<T, R extends object = object>(db: DataSource, q: PageQuery<T, R>): Promise<DocumentPage<T>> {
  const qb = db
    .getRepository(DocumentEntity)
    .createQueryBuilder('d')
    .addSelect(`to_char(d.${q.column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`, 'cursor_ts')
    .where('true')
    .orderBy(`d.${q.column}`, 'DESC')
    .addOrderBy('d.id', 'DESC')
    .limit(q.limit + 1);
  q.where(qb);
  if (q.cursor) qb.andWhere(`(d.${q.column}, d.id) < (:ts::timestamptz, :cid::uuid)`, { ts: q.cursor.createdAt, cid: q.cursor.id });
  // No joins, so raw rows and entities line up one to one.
  const { entities, raw } = await qb.getRawAndEntities<R & { cursor_ts: string }>();
  const count = Math.min(entities.length, q.limit);
  const items = entities.slice(0, count).map((e, i) => q.item(e, raw[i]));
  const last = count - 1;
  const nextCursor = entities.length > q.limit && last >= 0 ? encodeCursor(raw[last].cursor_ts, entities[last].id) : null;
  return { items, nextCursor };
}

export function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(`${createdAt}|${id}`, 'utf8').toString('base64url');
}

const CURSOR = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{6}Z\|([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/**
 * Null when the cursor is not one this service handed out: its timestamp must be a real
 * instant and its id a UUID, so a crafted cursor is a 400, never a failed query.
 */
export function decodeCursor(cursor: string): PageCursor | null {
  const match = CURSOR.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) return null;
  const [, y, mo, d, h, mi, s] = match.slice(0, 7).map(Number);
  const at = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  const real = at.getUTCFullYear() === y && at.getUTCMonth() === mo - 1 && at.getUTCDate() === d && at.getUTCHours() === h && at.getUTCMinutes() === mi && at.getUTCSeconds() === s;
  if (!real || y < 1) return null;
  const [timestamp, id] = match[0].split('|');
  return { createdAt: timestamp, id };
}
