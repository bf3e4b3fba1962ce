import { EntityManager } from 'typeorm';

/** SQL condition on `documents` (columns unqualified): failed for good and not discarded, i.e. a dead letter. */
export const IS_DEAD_LETTER = `status = 'failed' AND dead_letter_discarded_at IS NULL`;

// A new version starts afresh: the old version's attempts and errors no longer apply.
const QUEUED_NEXT_VERSION = `status = 'queued', version = version + 1, attempts = 0, last_error = NULL,
  last_error_class = NULL, failed_stage = NULL, dead_letter_discarded_at = NULL,
  started_at = NULL, completed_at = NULL, updated_at = now()`;

/** Which documents move to their next version, and what else changes with it. */
export interface NextVersionChange {
  /** Condition on `documents` (columns unqualified), with `$n` placeholders into `params`. */
  where: string;
  /** Further `documents` assignments, e.g. new settings. */
  set?: string;
  /** SQL expression (usually a placeholder) for the new text; absent keeps the stored text. */
  content?: string;
  params: unknown[];
}

/**
 * Moves the documents that `change.where` picks to their next version, queued with fresh attempts, and
 * stamps that version on their stored text in the same statement: the worker loads the text by version, so
 * the two must never disagree. Every path that starts a new version goes through here. Returns what moved.
 */
export async function queueNextVersion(em: EntityManager, change: NextVersionChange): Promise<Array<{ id: string; version: number; namespace: string }>> {
  const set = change.set === undefined ? '' : `${change.set}, `;
  const content = change.content === undefined ? '' : `, content = ${change.content}`;
  return em.query(
    `WITH bumped AS (
       UPDATE documents SET ${set}${QUEUED_NEXT_VERSION} WHERE ${change.where} RETURNING id, version, namespace
     ), restamped AS (
       UPDATE document_contents c SET version = bumped.version${content} FROM bumped WHERE c.document_id = bumped.id
     )
     SELECT id, version, namespace FROM bumped`,
    change.params,
  );
}
