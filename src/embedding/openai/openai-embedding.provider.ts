import type { EmbeddingProvider } from '../embedding-provider';
import { EmbeddingError } from '../embedding.errors';
import type { EmbeddingRateBudget } from '../rate-budget';
import { OpenAiEmbeddingsClient, OpenAiEmbeddingsClientOptions } from './openai-embeddings.client';
import { UpstreamError, describeError } from './openai-upstream.errors';
import { batchTexts } from './text-batches';
import { embeddingBudgetWait, embeddingRateLimited } from '../../observability/metrics/service-metrics';

export type { ApiKeyHeader } from './openai-embeddings.client';
export { retryAfterMs } from './openai-upstream.errors';
export { batchTexts } from './text-batches';
export type { TextBatch } from './text-batches';

/**
 * Options of {@link OpenAiEmbeddingProvider}: the client's (`baseUrl` may carry a query
 * string, as Azure's `?api-version=2024-02-01`; `apiKey` is omitted for servers that need
 * none, such as Ollama, vLLM, TEI, LM Studio), and batching, timeout and retries.
 */
export interface OpenAiEmbeddingOptions extends Omit<OpenAiEmbeddingsClientOptions, 'timeoutMs'> {
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
  private readonly client: OpenAiEmbeddingsClient;
  private readonly maxBatchSize: number;
  private readonly maxBatchTokens: number;
  private readonly maxRetries: number;
  private readonly maxRetryWaitMs: number;
  private readonly backoffBaseMs: number;

  constructor(private readonly options: OpenAiEmbeddingOptions) {
    this.modelId = `openai:${options.model}`;
    this.dimension = options.dimension;
    this.client = new OpenAiEmbeddingsClient({
      baseUrl: options.baseUrl,
      apiKey: options.apiKey,
      apiKeyHeader: options.apiKeyHeader,
      model: options.model,
      dimension: options.dimension,
      sendDimensions: options.sendDimensions,
      timeoutMs: options.timeoutMs ?? 30000,
    });
    this.maxBatchSize = options.maxBatchSize ?? 64;
    this.maxBatchTokens = options.maxBatchTokens ?? 30000;
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
        const { vectors, tokens, reported } = await this.client.post(texts, estimate);
        if (reported) await this.settle(estimate, tokens);
        return { vectors, tokens, requests };
      } catch (err) {
        if (!(err instanceof EmbeddingError) || !err.transient) throw err;
        const waitMs = err.retryAfterMs ?? this.backoff(attempt);
        if (err instanceof UpstreamError && err.status === 429) {
          embeddingRateLimited.inc({ model: this.modelId });
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
    const waited = embeddingBudgetWait.startTimer({ model: this.modelId });
    try {
      await this.options.budget.acquire(tokens);
      waited();
    } catch (err) {
      throw new EmbeddingError(`embedding rate budget unavailable: ${describeError(err)}`, true);
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
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
