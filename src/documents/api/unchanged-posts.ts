import { NewDocument, StoredVersion } from '../document-versions.repository';
import { DocumentVersionStore } from './documents.ports';
import { isUnchanged } from './documents.service';

const keyOf = (namespace: string, externalId: string): string => `${namespace}\u0000${externalId}`;

/**
 * Of `docs` (null: not a document), the positions of those that change nothing stored, with
 * what is stored, read in one query without a transaction or a lock: re-posting a corpus
 * costs no writes. A key posted more than once in `docs` is left to the caller's ordered
 * path, where the earlier post may change what the later one is compared with. Throws if the
 * read fails.
 */
export async function findUnchanged(versions: DocumentVersionStore, docs: ReadonlyArray<NewDocument | null>): Promise<Map<number, StoredVersion>> {
  const seen = new Map<string, number>();
  for (const doc of docs) {
    if (doc?.externalId == null) continue;
    const key = keyOf(doc.namespace, doc.externalId);
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  const once = (doc: NewDocument | null): doc is NewDocument & { externalId: string } =>
    doc?.externalId != null && seen.get(keyOf(doc.namespace, doc.externalId)) === 1;
  const keyed = docs.filter(once).map((d) => ({ namespace: d.namespace, externalId: d.externalId }));
  const unchanged = new Map<number, StoredVersion>();
  if (keyed.length === 0) return unchanged;
  const stored = await versions.findByExternalIds(keyed);
  docs.forEach((doc, i) => {
    if (!once(doc)) return;
    const existing = stored.get(keyOf(doc.namespace, doc.externalId));
    if (existing && isUnchanged(existing, doc)) unchanged.set(i, existing);
  });
  return unchanged;
}
