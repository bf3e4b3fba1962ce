import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HashEmbeddingProvider } from '../../src/embedding/hash-embedding.provider';
import { estimateTotalTokens } from '../../src/embedding/token-estimate';

/** What the fake answers to one request. */
export type FakeReply =
  /**
   * `usage`: the tokens the answer's `usage` block reports (default: the provider's own
   * estimate of the inputs); null sends no `usage` block, as some servers do.
   */
  | { kind: 'ok'; delayMs?: number; usage?: number | null }
  | { kind: 'status'; status: number; retryAfter?: string; message?: string; code?: string }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'wrong-dimension'; dimension: number };

/** One request as the fake saw it. */
export interface RecordedRequest {
  /** Arrival time, ms since the epoch (this process's clock). */
  at: number;
  model: string;
  batchSize: number;
  /** The texts to embed. */
  inputs: string[];
  /** Estimated tokens of the inputs (the same estimate the provider uses). */
  tokens: number;
  dimensions?: number;
  authorization?: string;
  apiKey?: string;
  path: string;
  /** The status the fake answered. */
  status: number;
}

/**
 * A local HTTP server speaking the OpenAI embeddings API (`POST …/embeddings`), with
 * deterministic vectors from {@link HashEmbeddingProvider}, a `usage` block, and
 * programmable failures: queue one-off replies with `next()`, or set `plan` to decide
 * every reply from the request number.
 */
export class FakeOpenAiServer {
  readonly requests: RecordedRequest[] = [];
  /** Decides the reply when no queued one-off reply is left; `n` counts requests from 0. */
  plan: (n: number, req: RecordedRequest) => FakeReply = () => ({ kind: 'ok' });
  private readonly queued: FakeReply[] = [];
  private readonly hash: Map<number, HashEmbeddingProvider> = new Map();
  private server?: http.Server;
  private readonly sockets = new Set<import('node:net').Socket>();
  url = '';

  constructor(private readonly dimension: number) {}

  /** Starts listening on a random local port; `url` is then the API root (`http://127.0.0.1:<port>/v1`). */
  async start(): Promise<string> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
    return this.url;
  }

  /** Queues replies for the next requests, in order, before `plan` applies again. */
  next(...replies: FakeReply[]): void {
    this.queued.push(...replies);
  }

  /** Forgets recorded requests, queued replies and the plan. */
  reset(): void {
    this.requests.length = 0;
    this.queued.length = 0;
    this.plan = () => ({ kind: 'ok' });
  }

  /** The vector the fake returns for `text` (to compare with what a client got). */
  async vectorOf(text: string, dimension = this.dimension): Promise<number[]> {
    return (await this.hasher(dimension).embed([text]))[0];
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private hasher(dimension: number): HashEmbeddingProvider {
    let h = this.hash.get(dimension);
    if (!h) this.hash.set(dimension, (h = new HashEmbeddingProvider(dimension)));
    return h;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const at = Date.now();
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.method !== 'POST' || !req.url?.split('?')[0].endsWith('/embeddings')) {
      return send(res, 404, { error: { message: `no route ${req.method} ${req.url}` } });
    }
    let body: { model?: unknown; input?: unknown; dimensions?: unknown };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
    } catch {
      return send(res, 400, { error: { message: 'body is not JSON' } });
    }
    const input = Array.isArray(body.input) ? body.input.map(String) : typeof body.input === 'string' ? [body.input] : [];
    const record: RecordedRequest = {
      at,
      path: req.url,
      model: String(body.model),
      batchSize: input.length,
      inputs: input,
      tokens: estimateTotalTokens(input),
      dimensions: typeof body.dimensions === 'number' ? body.dimensions : undefined,
      authorization: header(req, 'authorization'),
      apiKey: header(req, 'api-key'),
      status: 200,
    };
    const n = this.requests.length;
    this.requests.push(record);
    const reply = this.queued.shift() ?? this.plan(n, record);

    switch (reply.kind) {
      case 'status': {
        record.status = reply.status;
        const headers: Record<string, string> = reply.retryAfter ? { 'retry-after': reply.retryAfter } : {};
        return send(res, reply.status, { error: { message: reply.message ?? `fake error ${reply.status}`, code: reply.code ?? null } }, headers);
      }
      case 'slow':
        await delay(reply.delayMs);
        if (res.destroyed) return;
        return this.answer(res, input, String(body.model), this.dimension);
      case 'wrong-dimension':
        return this.answer(res, input, String(body.model), reply.dimension);
      case 'ok':
        if (reply.delayMs) await delay(reply.delayMs);
        return this.answer(res, input, String(body.model), this.dimension, reply.usage);
    }
  }

  private async answer(
    res: http.ServerResponse,
    input: string[],
    model: string,
    dimension: number,
    usage: number | null = estimateTotalTokens(input),
  ): Promise<void> {
    const vectors = await this.hasher(dimension).embed(input);
    // Reversed on purpose: clients must order by `index`, not by position.
    const data = vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })).reverse();
    const body: Record<string, unknown> = { object: 'list', data, model };
    if (usage !== null) body.usage = { prompt_tokens: usage, total_tokens: usage };
    send(res, 200, body);
  }
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
