import type { NamespaceDocumentCounts, NamespaceIndex } from '../../vector-store/backfill/namespace-indexes.repository';
import type { BackfillStatusResponse } from './dto/backfill-status.response';

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

/** A namespace's backfill as `GET /v1/namespaces/:namespace/backfill` shows it. */
export function toBackfillStatus(namespace: string, index: NamespaceIndex | null, documents: NamespaceDocumentCounts): BackfillStatusResponse {
  const settled = documents.queued === 0 && documents.processing === 0;
  if (index === null) {
    return { namespace, state: 'none', done: settled, vectorSearch: 'shared-index', documents, index: null, startedAt: null };
  }
  return {
    namespace,
    state: index.state,
    done: settled && index.state === 'ready' && index.indexValid,
    vectorSearch: index.indexValid ? 'own-index' : 'exact',
    documents,
    index: {
      name: index.indexName,
      valid: index.indexValid,
      buildStartedAt: iso(index.buildStartedAt),
      builtAt: iso(index.builtAt),
      buildMs: index.buildMs,
      rowsIndexed: index.rowsIndexed,
      maintenanceWorkMem: index.maintenanceWorkMem,
      lastError: index.lastError,
    },
    startedAt: iso(index.startedAt),
  };
}
