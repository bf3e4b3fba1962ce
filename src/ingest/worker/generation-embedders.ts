import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { CachedEmbedder } from '../../embedding/cached-embedder';
import { EmbeddingCache } from '../../embedding/embedding-cache';
import { EmbeddingProvider } from '../../embedding/embedding-provider';
import { loadTokenizer, tokenizerSpecForModelId } from '../../embedding/tokenizer';
import { EmbeddingGenerations } from '../../vector-store/embedding-generations';
import { Generation } from '../../vector-store/generations.repository';

/** The cache-backed embedder of each generation, for the workers. */
@Injectable()
export class GenerationEmbedders {
  private readonly wrapped = new WeakMap<EmbeddingProvider, CachedEmbedder>();

  constructor(
    private readonly generations: EmbeddingGenerations,
    private readonly cache: EmbeddingCache,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async forGeneration(generation: Generation): Promise<CachedEmbedder> {
    const provider = await this.generations.embedderFor(generation);
    let embedder = this.wrapped.get(provider);
    if (!embedder) {
      const e = this.config.embedding;
      const known = tokenizerSpecForModelId(provider.modelId);
      embedder = new CachedEmbedder(provider, this.cache, {
        batchSize: e.batchSize,
        enabled: e.cache,
        tokenizer: known ? { count: (text) => loadTokenizer(known.id).count(text), maxTokens: known.maxTokens } : undefined,
      });
      this.wrapped.set(provider, embedder);
    }
    return embedder;
  }
}
