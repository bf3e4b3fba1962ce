import { EmbeddingsResponse, usageTokens, vectorsOf } from './openai-embeddings.response';
import { redact } from '../../common/redact';
import { UpstreamError, describeError, httpError, snippet } from './openai-upstream.errors';

/** Header that carries the API key: `Authorization: Bearer <key>` (OpenAI and most servers) or `api-key: <key>` (Azure OpenAI). */
export type ApiKeyHeader = 'authorization' | 'api-key';

/** Options of {@link OpenAiEmbeddingsClient}. */
export interface OpenAiEmbeddingsClientOptions {
  /** API root; `/embeddings` is appended to its path, its query string kept. */
  baseUrl: string;
  apiKey?: string;
  /** Default `authorization`. */
  apiKeyHeader?: ApiKeyHeader;
  model: string;
  /** Length every returned vector must have. */
  dimension: number;
  /** Send `dimensions` in the request. */
  sendDimensions?: boolean;
  /** Timeout of the whole exchange, body included, ms. */
  timeoutMs: number;
}

/** One request's vectors (input order) and tokens: the upstream's count when `reported`, else the caller's estimate. */
export interface EmbeddingsAnswer {
  vectors: number[][];
  tokens: number;
  reported: boolean;
}

/**
 * One `POST {baseUrl}/embeddings` exchange, no retries. Failures are `UpstreamError`s
 * (an `EmbeddingError` with the HTTP status): timeouts, network errors, 429, 5xx and a
 * body that is not JSON are transient; other statuses and a malformed answer (wrong
 * count, dimension or index) are permanent.
 */
export class OpenAiEmbeddingsClient {
  private readonly url: string;
  private readonly headers: Record<string, string>;

  constructor(private readonly options: OpenAiEmbeddingsClientOptions) {
    this.url = embeddingsUrl(options.baseUrl);
    this.headers = { 'content-type': 'application/json', accept: 'application/json' };
    if (options.apiKey) {
      if ((options.apiKeyHeader ?? 'authorization') === 'api-key') this.headers['api-key'] = options.apiKey;
      else this.headers.authorization = `Bearer ${options.apiKey}`;
    }
  }

  /** Embeds `texts` in one request; `estimate` stands for the tokens when the upstream reports none. */
  async post(texts: string[], estimate: number): Promise<EmbeddingsAnswer> {
    const { model, dimension, timeoutMs } = this.options;
    const body: Record<string, unknown> = { model, input: texts };
    if (this.options.sendDimensions) body.dimensions = dimension;
    const where = `embedding request to ${this.url} (model ${model})`;

    let res: Response;
    let raw: string;
    try {
      // One signal bounds the whole exchange, the body included.
      const signal = AbortSignal.timeout(timeoutMs);
      res = await fetch(this.url, { method: 'POST', headers: this.headers, body: JSON.stringify(body), signal });
      // An upstream may echo the key it refused; it must not reach a document's error or a log.
      raw = redact(await res.text(), [this.options.apiKey]);
    } catch (err) {
      // Duck-typed: fetch rejects with a DOMException, which is not an Error in every realm.
      const name = (err as { name?: unknown } | null)?.name;
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new UpstreamError(`${where} timed out after ${timeoutMs} ms`, true, undefined);
      }
      throw new UpstreamError(`${where} failed: ${describeError(err)}`, true, undefined);
    }

    if (!res.ok) throw httpError(where, res, raw);

    let parsed: EmbeddingsResponse;
    try {
      parsed = JSON.parse(raw) as EmbeddingsResponse;
    } catch {
      // Usually a proxy's HTML error page: worth another try.
      throw new UpstreamError(`${where} answered ${res.status} with a body that is not JSON: ${snippet(raw)}`, true, undefined);
    }
    const vectors = vectorsOf(parsed, texts.length, { where, url: this.url, model, dimension });
    const counted = usageTokens(parsed);
    return { vectors, tokens: counted ?? estimate, reported: counted !== undefined };
  }
}

/** `{base path}/embeddings`, query string (Azure's api-version) kept. */
function embeddingsUrl(baseUrl: string): string {
  const url = new URL(baseUrl);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/embeddings`;
  return url.toString();
}
