import type { EmbeddingProvider } from '../embedding-provider';
import { EmbeddingError } from '../embedding.errors';
import type { EmbeddingRateBudget } from '../rate-budget';
import { estimateTokens } from '../token-estimate';

/** Header that carries the API key: `Authorization: Bearer <key>` (OpenAI and most servers) or `api-key: <key>` (Azure OpenAI). */
export type ApiKeyHeader = 'authorization' | 'api-key';

/** Options of {@link OpenAiEmbeddingProvider}. */
export interface OpenAiEmbeddingOptions {
  /**
   * API root; `/embeddings` is appended to its path, its query string kept (Azure:
   * `https://<resource>.openai.azure.com/openai/deployments/<deployment>?api-version=2024-02-01`).
   */
  baseUrl: string;
  /** Omitted for servers that need none (Ollama, vLLM, TEI, LM Studio). */
  apiKey?: string;
  /** Default `authorization`. */
  apiKeyHeader?: ApiKeyHeader;
  /** Model name sent upstream. */
  model: string;
  /** Length every returned vector must have. */
  dimension: number;
  /** Send `dimensions` in the request (models that can shorten their vectors, e.g. text-embedding-3-*). Default false. */
  sendDimensions?: boolean;
  /** Most texts per request (default 64). */
  maxBatchSize?: number;
  /** Most estimated tokens per request (default 30000); a longer single text goes alone. */
  maxBatchTokens?: number;
  /** Per-request timeout, ms, body included (default 30000). */
  timeoutMs?: number;
  /** Retries of a batch after a transient failure within one `embed` call (default 3). */
  maxRetries?: number;
  /** Longest wait before a retry within a call, ms (default 60000); a longer Retry-After gives up at once. */
  maxRetryWaitMs?: number;
  /** First backoff when the upstream gives no Retry-After, ms, doubled per attempt (default 500). */
  backoffBaseMs?: number;
  /** Shared admission control; the provider closes it on `close()`. */
  budget?: EmbeddingRateBudget;
}

/** Vectors in input order and the tokens the upstream counted for them. */
export interface EmbeddingUsage {
  vectors: number[][];
  /** `usage.total_tokens` summed over the requests, or the estimate where a server reports none. */
  tokens: number;
  /** Requests that got an answer, retries included. */
  requests: number;
}

interface EmbeddingsResponse {
  data?: Array<{ index?: number; embedding?: unknown }>;
  usage?: { total_tokens?: number; prompt_tokens?: number };
}

/** An EmbeddingError that also says which HTTP status (if any) caused it. */
class UpstreamError extends EmbeddingError {
  constructor(message: string, transient: boolean, retryAfterMs: number | undefined, readonly status?: number) {
    super(message, transient, retryAfterMs);
  }
}

/**
 * Embeddings through the OpenAI `POST /embeddings` API, which OpenAI, Azure OpenAI,
 * Ollama, vLLM, Hugging Face TEI and LM Studio all speak. Texts are sent in batches
 * bounded by count and by estimated tokens; each request passes the shared rate budget
 * first, charged its estimate, and settles it with the tokens the upstream reports.
 * 429, 5xx, timeouts and network errors are retried a bounded number of times
 * (honouring `Retry-After`), then surface as a transient `EmbeddingError`; other 4xx
 * answers and a vector dimension other than the configured one are permanent.
 */
export class OpenAiEmbeddingProvider implements EmbeddingProvider {
  readonly modelId: string;
  readonly dimension: number;
  private readonly url: string;
  private readonly headers: Record<string, string>;
  private readonly maxBatchSize: number;
  private readonly maxBatchTokens: number;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly maxRetryWaitMs: number;
  private readonly backoffBaseMs: number;

  constructor(private readonly options: OpenAiEmbeddingOptions) {
    this.modelId = `openai:${options.model}`;
    this.dimension = options.dimension;
    this.url = embeddingsUrl(options.baseUrl);
    this.headers = { 'content-type': 'application/json', accept: 'application/json' };
    if (options.apiKey) {
      if ((options.apiKeyHeader ?? 'authorization') === 'api-key') this.headers['api-key'] = options.apiKey;
      else this.headers.authorization = `Bearer ${options.apiKey}`;
    }
    this.maxBatchSize = options.maxBatchSize ?? 64;
    this.maxBatchTokens = options.maxBatchTokens ?? 30000;
    this.timeoutMs = options.timeoutMs ?? 30000;
    this.maxRetries = options.maxRetries ?? 3;
    this.maxRetryWaitMs = options.maxRetryWaitMs ?? 60000;
    this.backoffBaseMs = options.backoffBaseMs ?? 500;
  }

  async embed(texts: string[]): Promise<number[][]> {
    return (await this.embedWithUsage(texts)).vectors;
  }

  /** Like `embed`, and also reports the tokens billed and the requests made. */
  async embedWithUsage(texts: string[]): Promise<EmbeddingUsage> {
    const vectors: number[][] = [];
    let tokens = 0;
    let requests = 0;
    for (const batch of batchTexts(texts, this.maxBatchSize, this.maxBatchTokens)) {
      const answer = await this.embedBatchWithRetries(batch.texts, batch.tokens);
      vectors.push(...answer.vectors);
      tokens += answer.tokens;
      requests += answer.requests;
    }
    return { vectors, tokens, requests };
  }

  async close(): Promise<void> {
    await this.options.budget?.close?.();
  }

  private async embedBatchWithRetries(texts: string[], estimate: number): Promise<EmbeddingUsage> {
    let requests = 0;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.acquire(estimate);
        requests++;
        const { vectors, tokens, reported } = await this.request(texts, estimate);
        if (reported) await this.settle(estimate, tokens);
        return { vectors, tokens, requests };
      } catch (err) {
        if (!(err instanceof EmbeddingError) || !err.transient) throw err;
        const waitMs = err.retryAfterMs ?? this.backoff(attempt);
        if (err instanceof UpstreamError && err.status === 429) {
          // Every process sharing the budget holds back, not only this one.
          await this.options.budget?.pause(waitMs).catch(() => undefined);
        }
        if (attempt >= this.maxRetries || waitMs > this.maxRetryWaitMs) {
          throw new EmbeddingError(
            `${err.message} (gave up after ${attempt + 1} attempt${attempt === 0 ? '' : 's'})`,
            true,
            waitMs,
          );
        }
        await sleep(waitMs);
      }
    }
  }

  private async acquire(tokens: number): Promise<void> {
    if (!this.options.budget) return;
    try {
      await this.options.budget.acquire(tokens);
    } catch (err) {
      throw new EmbeddingError(`embedding rate budget unavailable: ${describe(err)}`, true);
    }
  }

  /**
   * Corrects the shared budget from the estimate to the upstream's count, so the estimate's
   * error does not accumulate across processes. Best effort: the vectors are already paid
   * for, and an unreachable budget shows up at the next `acquire`.
   */
  private async settle(charged: number, actual: number): Promise<void> {
    if (actual === charged || !this.options.budget?.settle) return;
    await this.options.budget.settle(charged, actual).catch(() => undefined);
  }

  private backoff(attempt: number): number {
    const base = this.backoffBaseMs * 2 ** attempt;
    return Math.round(Math.min(base, 30000) * (0.75 + Math.random() * 0.5));
  }

  /** One request; `tokens` is the upstream's count when `reported`, else the estimate. */
  private async request(
    texts: string[],
    estimate: number,
  ): Promise<{ vectors: number[][]; tokens: number; reported: boolean }> {
    const body: Record<string, unknown> = { model: this.options.model, input: texts };
    if (this.options.sendDimensions) body.dimensions = this.dimension;
    const where = `embedding request to ${this.url} (model ${this.options.model})`;

    let res: Response;
    let raw: string;
    try {
      // One signal bounds the whole exchange, the body included.
      const signal = AbortSignal.timeout(this.timeoutMs);
      res = await fetch(this.url, { method: 'POST', headers: this.headers, body: JSON.stringify(body), signal });
      raw = await res.text();
    } catch (err) {
      // Duck-typed: fetch rejects with a DOMException, which is not an Error in every realm.
      const name = (err as { name?: unknown } | null)?.name;
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new UpstreamError(`${where} timed out after ${this.timeoutMs} ms`, true, undefined);
      }
      throw new UpstreamError(`${where} failed: ${describe(err)}`, true, undefined);
    }

    if (!res.ok) throw this.httpError(where, res, raw);

    let parsed: EmbeddingsResponse;
    try {
      parsed = JSON.parse(raw) as EmbeddingsResponse;
    } catch {
      // Usually a proxy's HTML error page: worth another try.
      throw new UpstreamError(`${where} answered ${res.status} with a body that is not JSON: ${snippet(raw)}`, true, undefined);
    }
    const vectors = this.vectorsOf(parsed, texts.length, where);
    const counted = usageTokens(parsed);
    return { vectors, tokens: counted ?? estimate, reported: counted !== undefined };
  }

  private vectorsOf(parsed: EmbeddingsResponse, expected: number, where: string): number[][] {
    const data = parsed.data;
    if (!Array.isArray(data) || data.length !== expected) {
      throw new EmbeddingError(
        `${where} returned ${Array.isArray(data) ? data.length : 'no'} embeddings for ${expected} inputs`,
        false,
      );
    }
    const out = new Array<number[] | undefined>(expected);
    data.forEach((item, position) => {
      // Servers that omit `index` answer in input order.
      const index = typeof item.index === 'number' ? item.index : position;
      const v = item.embedding;
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
        throw new EmbeddingError(
          `${where} returned an embedding that is not an array of numbers (base64 encoding is not supported)`,
          false,
        );
      }
      if (v.length !== this.dimension) {
        throw new EmbeddingError(
          `embedding dimension mismatch: model ${this.options.model} at ${this.url} returned ${v.length}-dimensional vectors ` +
            `but EMBEDDING_DIMENSION is ${this.dimension}; set EMBEDDING_DIMENSION=${v.length} (the chunks table must then be ` +
            `migrated or re-embedded), choose a model producing ${this.dimension} dimensions, or set OPENAI_SEND_DIMENSIONS=true ` +
            `if the model can shorten its vectors`,
          false,
        );
      }
      if (!Number.isInteger(index) || index < 0 || index >= expected || out[index] !== undefined) {
        throw new EmbeddingError(`${where} returned an invalid or repeated index ${index}`, false);
      }
      out[index] = v as number[];
    });
    return out as number[][];
  }

  private httpError(where: string, res: Response, raw: string): UpstreamError {
    const detail = providerMessage(raw);
    const status = res.status;
    const text = `${where} failed with HTTP ${status}${res.statusText ? ` ${res.statusText}` : ''}: ${detail}`;
    if (status === 429) {
      // A spent quota is not a rate limit: waiting a few seconds will not bring it back.
      if (/insufficient_quota/.test(raw)) return new UpstreamError(`${text} (quota exhausted)`, false, undefined, status);
      return new UpstreamError(text, true, retryAfterMs(res.headers), status);
    }
    if (status >= 500 || status === 408 || status === 409 || status === 425) {
      return new UpstreamError(text, true, retryAfterMs(res.headers), status);
    }
    const hint: Record<number, string> = {
      400: 'bad request',
      401: 'unauthorized: check OPENAI_API_KEY and OPENAI_API_KEY_HEADER',
      403: 'forbidden: the key may not use this model or endpoint',
      404: 'not found: check OPENAI_BASE_URL and EMBEDDING_MODEL',
      413: 'request too large: lower EMBEDDING_MAX_BATCH_TOKENS or EMBEDDING_BATCH_SIZE',
    };
    return new UpstreamError(`${text}${hint[status] ? ` (${hint[status]})` : ''}`, false, undefined, status);
  }
}

/** A group of texts sent in one request, with its estimated token count. */
export interface TextBatch {
  texts: string[];
  tokens: number;
}

/**
 * Splits `texts` (order kept) into batches of at most `maxSize` texts and at most
 * `maxTokens` estimated tokens; a single text above `maxTokens` forms its own batch.
 */
export function batchTexts(texts: readonly string[], maxSize: number, maxTokens: number): TextBatch[] {
  const batches: TextBatch[] = [];
  let current: TextBatch = { texts: [], tokens: 0 };
  for (const text of texts) {
    const t = estimateTokens(text);
    if (current.texts.length > 0 && (current.texts.length >= maxSize || current.tokens + t > maxTokens)) {
      batches.push(current);
      current = { texts: [], tokens: 0 };
    }
    current.texts.push(text);
    current.tokens += t;
  }
  if (current.texts.length > 0) batches.push(current);
  return batches;
}

/**
 * Milliseconds to wait from `retry-after-ms` (sent by OpenAI) or `Retry-After`
 * (delta-seconds or an HTTP date); undefined when absent or unreadable.
 */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.ceil(Number(ms));
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** `{base path}/embeddings`, query string (Azure's api-version) kept. */
function embeddingsUrl(baseUrl: string): string {
  const url = new URL(baseUrl);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/embeddings`;
  return url.toString();
}

function usageTokens(parsed: EmbeddingsResponse): number | undefined {
  const u = parsed.usage;
  const n = u?.total_tokens ?? u?.prompt_tokens;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** The provider's own error text: OpenAI `{error:{message}}`, TEI/Ollama `{error:"..."}`, or the raw body. */
function providerMessage(raw: string): string {
  try {
    const body = JSON.parse(raw) as { error?: unknown; message?: unknown; detail?: unknown };
    const e = body.error;
    if (e && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string') {
      return (e as { message: string }).message;
    }
    for (const candidate of [e, body.message, body.detail]) {
      if (typeof candidate === 'string') return candidate;
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  return snippet(raw) || '(empty body)';
}

function snippet(raw: string): string {
  const s = raw.replace(/\s+/g, ' ').trim();
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
}

function describe(err: unknown): string {
  const e = err as { message?: unknown; cause?: { message?: unknown } } | null;
  if (typeof e?.message !== 'string') return String(err);
  return typeof e.cause?.message === 'string' ? `${e.message} (${e.cause.message})` : e.message;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
