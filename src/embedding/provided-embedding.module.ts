import { DynamicModule, Global, Module } from '@nestjs/common';
import { EMBEDDING_PROVIDER, EmbeddingProvider } from './embedding-provider';

/**
 * Supplies an embedding provider built by the caller instead of from EMBEDDING_PROVIDER:
 * for embedding the service in another program with a provider of its own, and for
 * tests that script a provider's failures. The caller owns (and closes) the provider.
 */
@Global()
@Module({})
export class ProvidedEmbeddingModule {
  static with(provider: EmbeddingProvider): DynamicModule {
    return {
      module: ProvidedEmbeddingModule,
      providers: [{ provide: EMBEDDING_PROVIDER, useValue: provider }],
      exports: [EMBEDDING_PROVIDER],
    };
  }
}
