import { DocumentStatus, IngestClient } from './ingest-client';

const SETTLED = new Set(['ready', 'failed']);

export interface FollowOptions {
  /** Give up after this long; the document is then reported as still processing. */
  timeoutMs: number;
  pollMs?: number;
}

/**
 * Waits until the document reaches `ready` or `failed` at `version` or later: by its
 * status event stream when the server has one, else by polling its status.
 */
export async function followDocument(client: IngestClient, id: string, version: number, options: FollowOptions): Promise<DocumentStatus> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), options.timeoutMs);
  try {
    const stream = await client.events(id, abort.signal).catch((err: unknown) => {
      if (abort.signal.aborted) return null;
      throw err;
    });
    // Read once after subscribing: a document settled before the stream opened sends no event.
    const now = await client.document(id);
    if (isSettled(now, version)) return now;
    if (stream) {
      try {
        for await (const e of stream) {
          if (e.event !== 'status') continue;
          const status = parseStatus(e.data);
          if (status && SETTLED.has(status.status) && (status.version ?? version) >= version) return client.document(id);
        }
      } catch (err) {
        if (!abort.signal.aborted) throw err;
      }
      // The stream ended (or timed out): the document's own status is the answer.
      return client.document(id);
    }
    return await poll(client, id, version, abort.signal, options.pollMs ?? 500);
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

async function poll(client: IngestClient, id: string, version: number, signal: AbortSignal, everyMs: number): Promise<DocumentStatus> {
  for (;;) {
    const d = await client.document(id);
    if (isSettled(d, version) || signal.aborted) return d;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

function isSettled(d: DocumentStatus, version: number): boolean {
  return SETTLED.has(d.status) && d.version >= version;
}

function parseStatus(data: string): { status: string; version?: number } | null {
  try {
    const parsed = JSON.parse(data) as { status?: unknown; version?: unknown };
    if (typeof parsed.status !== 'string') return null;
    return { status: parsed.status, version: typeof parsed.version === 'number' ? parsed.version : undefined };
  } catch {
    return null;
  }
}
