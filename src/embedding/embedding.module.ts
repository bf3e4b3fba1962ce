import { Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/app-config';
import { EMBEDDING_PROVIDER, EmbeddingProvider } from './embedding-provider';
import { HashEmbeddingProvider } from './hash-embedding.provider';
import { LocalEmbeddingProvider } from './local/local-embedding.provider';

/** Builds the provider named by EMBEDDING_PROVIDER. */
export async function createEmbeddingProvider(config: AppConfig): Promise<EmbeddingProvider> {
  const e = config.embedding;
  switch (e.provider) {
    case 'hash':
      return new HashEmbeddingProvider(e.dimension);
    case 'local':
      return LocalEmbeddingProvider.create({ threads: e.threads, quantize: e.quantize, maxBatch: e.batchSize });
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
