import { Logger } from '@nestjs/common';
import type { EmbeddingProvider } from './embedding-provider';
import { EmbeddingError } from './embedding.errors';
import { cacheKey, EmbeddingCache } from './embedding-cache';
import type { EmbeddingUsage } from './openai/openai-embedding.provider';
import { estimateTotalTokens } from './token-estimate';
import { embeddingCacheHits, embeddingCacheMisses, embeddingRequests, embeddingTexts, embeddingTokens } from '../observability/metrics/service-metrics';

/** A provider that can also report billed tokens (the OpenAI-compatible one). */
export interface UsageReportingProvider extends EmbeddingProvider {
  embedWithUsage(texts: string[]): Promise<EmbeddingUsage>;
}

function reportsUsage(p: EmbeddingProvider): p is UsageReportingProvider {
  return typeof (p as Partial<UsageReportingProvider>).embedWithUsage === 'function';
}

/** Vectors for a list of texts and what obtaining them cost. */
export interface CachedEmbedding {
  /** One vector per input text, in input order. */
  vectors: number[][];
  /** Inputs answered from the cache. */
  cacheHits: number;
  /** Distinct texts sent to the provider. */
  providerTexts: number;
  /** Tokens the provider billed, else counted by the model's tokenizer, else estimated (0 when nothing was sent). */
  tokens: number;
  /** Characters of the texts sent to the provider. */
  characters: number;
  /** True when `tokens` is an estimate rather than the provider's own count. */
  tokensEstimated: boolean;
}

/** Options of {@link CachedEmbedder}. */
export interface CachedEmbedderOptions {
  /** Texts per provider call (default 32). */
  batchSize?: number;
  /** Consult and fill the cache (default true, unless the provider is not worth caching); false embeds everything. */
  enabled?: boolean;
  /**
   * The model's tokenizer, to count the tokens of a provider that reports none; it reads
   * at most `maxTokens` of each text. Without it, such tokens are estimated.
   */
  tokenizer?: { count(text: string): number; maxTokens: number };
}

/**
 * Embeds texts through a provider, calling it only for texts whose vector is not in the
 * {@link EmbeddingCache} under the provider's model and dimension (and once per distinct
 * text within a call). New vectors are stored after the provider answers; a failed store
 * is logged, not thrown, since the vectors are already paid for and correct.
 */
export class CachedEmbedder {
  private readonly logger = new Logger(CachedEmbedder.name);
  private readonly batchSize: number;
  private readonly enabled: boolean;
  private readonly tokenizer: CachedEmbedderOptions['tokenizer'];

  constructor(
    private readonly provider: EmbeddingProvider,
    private readonly cache: EmbeddingCache,
    options: CachedEmbedderOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 32;
    this.enabled = (options.enabled ?? true) && provider.worthCaching !== false;
    this.tokenizer = options.tokenizer;
  }

  /** The model whose vectors this returns (recorded with each chunk). */
  get modelId(): string {
    return this.provider.modelId;
  }

  /**
   * Vectors for `texts` in order. Throws `EmbeddingError` from the provider as is, and a
   * permanent `EmbeddingError` when the provider returns the wrong count or dimension.
   * `onProgress` hears how many of the texts have their vector, after the cache and after each batch.
   */
  async embed(texts: readonly string[], onProgress?: (embedded: number, total: number) => Promise<void>): Promise<CachedEmbedding> {
    const { modelId: model, dimension } = this.provider;
    const cached = this.enabled ? await this.cache.lookup(model, dimension, texts) : texts.map(() => undefined);

    // One provider input per distinct missing text.
    const missing = new Map<string, { text: string; positions: number[] }>();
    texts.forEach((text, i) => {
      if (cached[i]) return;
      const key = this.enabled ? cacheKey(text) : String(i);
      const entry = missing.get(key);
      if (entry) entry.positions.push(i);
      else missing.set(key, { text, positions: [i] });
    });

    const vectors: Array<number[] | undefined> = [...cached];
    const toEmbed = [...missing.values()];
    let embedded = texts.length - toEmbed.reduce((n, m) => n + m.positions.length, 0);
    await onProgress?.(embedded, texts.length);
    let tokens = 0;
    let characters = 0;
    let tokensEstimated = false;
    for (let i = 0; i < toEmbed.length; i += this.batchSize) {
      const slice = toEmbed.slice(i, i + this.batchSize).map((m) => m.text);
      let got: number[][];
      const tokensBefore = tokens;
      if (reportsUsage(this.provider)) {
        const answer = await this.provider.embedWithUsage(slice);
        got = answer.vectors;
        tokens += answer.tokens;
        embeddingRequests.inc({ model, kind: 'chunks' }, answer.requests);
      } else {
        got = await this.provider.embed(slice);
        embeddingRequests.inc({ model, kind: 'chunks' });
        const tokenizer = this.tokenizer;
        if (tokenizer) {
          tokens += slice.reduce((n, text) => n + Math.min(tokenizer.count(text), tokenizer.maxTokens), 0);
        } else {
          tokens += estimateTotalTokens(slice);
          tokensEstimated = true;
        }
      }
      characters += slice.reduce((n, text) => n + text.length, 0);
      embeddingTexts.inc({ model, kind: 'chunks' }, slice.length);
      embeddingTokens.inc({ model }, tokens - tokensBefore);
      if (got.length !== slice.length || got.some((v) => v.length !== dimension)) {
        throw new EmbeddingError(`embedding provider ${model} returned vectors of the wrong count or dimension`, false);
      }
      toEmbed.slice(i, i + this.batchSize).forEach((m, j) => {
        for (const p of m.positions) vectors[p] = got[j];
        embedded += m.positions.length;
      });
      if (this.enabled) {
        await this.cache
          .store(model, dimension, slice, got)
          .catch((err: unknown) => this.logger.warn(`could not store ${slice.length} embeddings in the cache: ${String(err)}`));
      }
      await onProgress?.(embedded, texts.length);
    }

    const cacheHits = texts.length - [...missing.values()].reduce((n, m) => n + m.positions.length, 0);
    embeddingCacheHits.inc({ model }, cacheHits);
    embeddingCacheMisses.inc({ model }, texts.length - cacheHits);
    return {
      vectors: vectors as number[][],
      cacheHits,
      providerTexts: toEmbed.length,
      tokens,
      characters,
      tokensEstimated,
    };
  }
}
