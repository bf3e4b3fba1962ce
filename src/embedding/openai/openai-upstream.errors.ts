import { EmbeddingError } from '../embedding.errors';

/** An EmbeddingError that also says which HTTP status (if any) caused it. */
export class UpstreamError extends EmbeddingError {
  constructor(message: string, transient: boolean, retryAfterMs: number | undefined, readonly status?: number) {
    super(message, transient, retryAfterMs);
  }
}

/**
 * Classifies a non-2xx answer: 429 (unless the quota is spent), 5xx, 408, 409 and 425
 * are transient, with the upstream's Retry-After; every other status is permanent, with
 * a hint at the setting to check where there is an obvious one.
 */
export function httpError(where: string, res: Response, raw: string): UpstreamError {
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

/** A response body on one line, cut at 300 characters, for error messages. */
export function snippet(raw: string): string {
  const s = raw.replace(/\s+/g, ' ').trim();
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
}

/** A thrown value's message, with its cause's (fetch puts the network error there). */
export function describeError(err: unknown): string {
  const e = err as { message?: unknown; cause?: { message?: unknown } } | null;
  if (typeof e?.message !== 'string') return String(err);
  return typeof e.cause?.message === 'string' ? `${e.message} (${e.cause.message})` : e.message;
}
