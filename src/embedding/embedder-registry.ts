import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { CachedEmbedder } from './cached-embedder';
import { EmbeddingCache } from './embedding-cache';
import { EMBEDDING_PROVIDER, EmbeddingProvider } from './embedding-provider';
import { EmbeddingSpec, configForSpec, sameModel, specFromConfig } from './embedding-spec';
import { createEmbeddingProvider } from './embedding.module';
import { loadTokenizer, tokenizerSpecForModelId } from './tokenizer';

/** What the registry needs of an embedding generation: which model made its vectors and how to rebuild it. */
export interface GenerationModel {
  id: number;
  modelId: string;
  dimension: number;
  spec: EmbeddingSpec | null;
}

/**
 * The embedder of each embedding generation, in this process. A generation of the
 * configured model uses the configured provider; any other is rebuilt once from its
 * recorded spec (the API key comes from this process's configuration), so queries and
 * chunks keep matching the vectors of a generation this process was not configured for.
 * Embedders of generations that ended stay open until shutdown: a job or a query may
 * still be using one.
 */
@Injectable()
export class EmbedderRegistry implements OnApplicationShutdown {
  private readonly logger = new Logger(EmbedderRegistry.name);
  private readonly built = new Map<number, Promise<EmbeddingProvider>>();
  private readonly cached = new WeakMap<EmbeddingProvider, CachedEmbedder>();
  /** The generation ALLOW_MODEL_MISMATCH lets the configured provider serve. */
  private mismatchedGenerationId?: number;

  constructor(
    @Inject(EMBEDDING_PROVIDER) private readonly configured: EmbeddingProvider,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly cache: EmbeddingCache,
  ) {}

  /** The configured model, as a spec other processes can rebuild. */
  configuredSpec(): EmbeddingSpec {
    return specFromConfig(this.config, this.configured.modelId, this.configured.dimension);
  }

  /** Lets the configured provider serve `generationId` although its model differs (ALLOW_MODEL_MISMATCH). */
  serveWithConfigured(generationId: number): void {
    this.mismatchedGenerationId = generationId;
  }

  /** The provider whose vectors belong in `generation`: for queries. Rejects if it cannot be rebuilt. */
  providerFor(generation: GenerationModel): Promise<EmbeddingProvider> {
    if (sameModel(generation, this.configured) || generation.id === this.mismatchedGenerationId) {
      return Promise.resolve(this.configured);
    }
    let provider = this.built.get(generation.id);
    if (!provider) {
      provider = this.build(generation);
      this.built.set(generation.id, provider);
      provider.catch(() => this.built.delete(generation.id));
    }
    return provider;
  }

  /** The cache-backed embedder of `generation`: for chunks. */
  async embedderFor(generation: GenerationModel): Promise<CachedEmbedder> {
    const provider = await this.providerFor(generation);
    let embedder = this.cached.get(provider);
    if (!embedder) {
      const e = this.config.embedding;
      const known = tokenizerSpecForModelId(provider.modelId);
      embedder = new CachedEmbedder(provider, this.cache, {
        batchSize: e.batchSize,
        enabled: e.cache,
        tokenizer: known ? { count: (text) => loadTokenizer(known.id).count(text), maxTokens: known.maxTokens } : undefined,
      });
      this.cached.set(provider, embedder);
    }
    return embedder;
  }

  async onApplicationShutdown(): Promise<void> {
    const providers = await Promise.allSettled([...this.built.values()]);
    this.built.clear();
    for (const p of providers) if (p.status === 'fulfilled') await p.value.close?.();
  }

  private async build(generation: GenerationModel): Promise<EmbeddingProvider> {
    if (!generation.spec) throw new Error(`cannot embed for ${generation.modelId}: its settings were never recorded`);
    const provider = await createEmbeddingProvider(configForSpec(this.config, generation.spec));
    if (!sameModel(provider, generation)) {
      await provider.close?.();
      throw new Error(`rebuilding ${generation.modelId} (${generation.dimension} dimensions) gave ${provider.modelId} (${provider.dimension} dimensions)`);
    }
    this.logger.log(`embedder for generation ${generation.id}: ${provider.modelId} (${provider.dimension} dimensions)`);
    return provider;
  }
}
