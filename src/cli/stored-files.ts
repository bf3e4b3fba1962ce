import { IngestClient } from './ingest-client';

/** What the service holds of an uploaded file, by its externalId. */
export interface StoredFile {
  sha256: string;
  status: string;
}

interface DocumentPage {
  items: Array<{ externalId: string | null; status: string; source: { sha256: string } | null }>;
  nextCursor: string | null;
}

/**
 * Every uploaded file the namespace holds, read page by page from `GET /v1/documents`, so
 * that a second `add` of the same folder sends only what changed. Empty when the listing
 * is not allowed (a key without `documents:read`): every file is then sent, and the
 * service deduplicates.
 */
export async function storedFiles(client: IngestClient, namespace: string | undefined): Promise<Map<string, StoredFile>> {
  const stored = new Map<string, StoredFile>();
  let cursor: string | null = null;
  try {
    do {
      const query = new URLSearchParams({ limit: '100', namespace: namespace ?? 'default' });
      if (cursor) query.set('cursor', cursor);
      const page: DocumentPage | null = await client.optional<DocumentPage>(`/v1/documents?${query.toString()}`);
      if (!page) break;
      for (const d of page.items) {
        if (d.externalId !== null && d.source) stored.set(d.externalId, { sha256: d.source.sha256, status: d.status });
      }
      cursor = page.nextCursor;
    } while (cursor);
  } catch {
    return new Map();
  }
  return stored;
}
