/**
 * The service's HTTP API as the CLI uses it. Nothing here reaches Postgres or Redis:
 * the CLI is a client of the API, like any other.
 */
export interface ClientOptions {
  baseUrl: string;
  apiKey?: string;
}

/** What POST /v1/documents answers. */
export interface Accepted {
  id: string;
  status: string;
  version: number;
  deduplicated: boolean;
}

export interface DocumentStatus {
  id: string;
  status: string;
  version: number;
  chunkCount: number | null;
  lastError: string | null;
}

export interface SearchHit {
  documentId: string;
  chunkIndex: number;
  content: string;
  context: string | null;
  score: number;
  title: string | null;
  externalId: string | null;
}

/** A non-2xx answer, with the server's own message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(`${status} ${message}`);
    this.name = 'ApiError';
  }
}

export interface NewDocument {
  /** The file's bytes, sent as the multipart field `file`. */
  file: { name: string; bytes: Buffer; contentType: string };
  externalId: string;
  namespace?: string;
  metadata?: Record<string, unknown>;
}

export class IngestClient {
  private readonly baseUrl: string;

  constructor(private readonly options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  /** Uploads a file as multipart/form-data (field `file`; externalId, namespace, metadata as fields). */
  upload(doc: NewDocument): Promise<Accepted> {
    const form = new FormData();
    form.set('file', new Blob([doc.file.bytes], { type: doc.file.contentType }), doc.file.name);
    form.set('externalId', doc.externalId);
    if (doc.namespace) form.set('namespace', doc.namespace);
    if (doc.metadata) form.set('metadata', JSON.stringify(doc.metadata));
    return this.request<Accepted>('POST', '/v1/documents', form);
  }

  /** Posts a text document as JSON. */
  postText(body: { content: string; externalId: string; title?: string; namespace?: string; metadata?: Record<string, unknown> }): Promise<Accepted> {
    return this.request<Accepted>('POST', '/v1/documents', body);
  }

  document(id: string): Promise<DocumentStatus> {
    return this.request<DocumentStatus>('GET', `/v1/documents/${encodeURIComponent(id)}`);
  }

  search(body: { query: string; namespace?: string; topK?: number; mode?: string }): Promise<{ results: SearchHit[] }> {
    return this.request<{ results: SearchHit[] }>('POST', '/v1/search', body);
  }

  /** GET of any JSON route; `null` when the route does not exist (404). */
  async optional<T>(path: string): Promise<T | null> {
    try {
      return await this.request<T>('GET', path);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return null;
      throw err;
    }
  }

  /** The readiness probe's body, whatever its status (503 lists what is down). */
  async readiness(): Promise<{ ok: boolean; body: Record<string, unknown> }> {
    const res = await this.fetch('GET', '/health/ready');
    return { ok: res.ok, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
  }

  /**
   * Opens the document's status event stream (`event: status`). Null when the server has
   * no such stream (404), so the caller polls instead.
   */
  async events(id: string, signal: AbortSignal): Promise<AsyncIterable<{ event: string; data: string }> | null> {
    const res = await this.fetch('GET', `/v1/documents/${encodeURIComponent(id)}/events`, undefined, signal, { accept: 'text/event-stream' });
    if (res.status === 404 || res.status === 405) {
      await res.body?.cancel();
      return null;
    }
    if (!res.ok || !res.body) throw new ApiError(res.status, await errorMessage(res));
    return readServerSentEvents(res.body);
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.fetch(method, path, body);
    if (!res.ok) throw new ApiError(res.status, await errorMessage(res));
    return (await res.json()) as T;
  }

  private fetch(method: string, path: string, body?: unknown, signal?: AbortSignal, extra: Record<string, string> = {}): Promise<Response> {
    const headers: Record<string, string> = { ...extra };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    let payload: FormData | string | undefined;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    return fetch(`${this.baseUrl}${path}`, { method, headers, body: payload, signal });
  }
}

/** The server's `message` (a string or a list of them), else the status text. */
async function errorMessage(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const parsed = JSON.parse(text) as { message?: string | string[] };
    if (Array.isArray(parsed.message)) return parsed.message.join('; ');
    if (parsed.message) return parsed.message;
  } catch {
    // not JSON: fall through
  }
  return text.trim().slice(0, 200) || res.statusText;
}

/** Parses a text/event-stream body into its events (`event:` defaults to "message"). */
export async function* readServerSentEvents(body: ReadableStream<Uint8Array>): AsyncIterable<{ event: string; data: string }> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const piece of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(piece, { stream: true });
    let end: number;
    while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length > 0) yield { event, data: data.join('\n') };
    }
  }
}
