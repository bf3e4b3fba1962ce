import { Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/app-config';
import { EMBEDDING_PROVIDER, EmbeddingProvider } from './embedding-provider';
import { HashEmbeddingProvider } from './hash-embedding.provider';
import { LocalEmbeddingProvider } from './local/local-embedding.provider';
import { OpenAiEmbeddingProvider } from './openai/openai-embedding.provider';
import { RedisRateBudget } from './rate-budget';
import { createRedisClient } from '../common/redis-client';

/** Builds the provider named by EMBEDDING_PROVIDER. */
export async function createEmbeddingProvider(config: AppConfig): Promise<EmbeddingProvider> {
  const e = config.embedding;
  switch (e.provider) {
    case 'hash':
      return new HashEmbeddingProvider(e.dimension);
    case 'local':
      return LocalEmbeddingProvider.create({ threads: e.threads, quantize: e.quantize, maxBatch: e.localRunBatch });
    case 'openai': {
      const model = e.model ?? '';
      // Keyed by deployment and model: upstream limits are per model, and every process of
      // this deployment (API queries included) draws from the same budget.
      const budget = RedisRateBudget.owning(createRedisClient(config.redis, RedisRateBudget.tuning), {
        keyPrefix: `${config.queue.prefix}:embedding-rate:${model}`,
        requestsPerMinute: e.rpm,
        tokensPerMinute: e.tpm,
      });
      return new OpenAiEmbeddingProvider({
        baseUrl: e.openai.baseUrl,
        apiKey: e.openai.apiKey,
        apiKeyHeader: e.openai.apiKeyHeader,
        model,
        dimension: e.dimension,
        sendDimensions: e.openai.sendDimensions,
        maxBatchSize: e.batchSize,
        maxBatchTokens: e.maxBatchTokens,
        timeoutMs: e.requestTimeoutMs,
        maxRetries: e.maxRetries,
        budget,
      });
    }
  }
}

/** One embedding provider per process, shared by the worker (chunks) and the API (queries). */
@Global()
@Module({
  providers: [
    {
      provide: EMBEDDING_PROVIDER,
      inject: [APP_CONFIG],
      useFactory: async (config: AppConfig) => {
        const provider = await createEmbeddingProvider(config);
        new Logger('Embedding').log(`provider ${provider.modelId} (${provider.dimension} dimensions)`);
        return provider;
      },
    },
  ],
  exports: [EMBEDDING_PROVIDER],
})
export class EmbeddingModule implements OnApplicationShutdown {
  constructor(@Inject(EMBEDDING_PROVIDER) private readonly provider: EmbeddingProvider) {}

  async onApplicationShutdown(): Promise<void> {
    await this.provider.close?.();
  }
}
