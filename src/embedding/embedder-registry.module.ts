import { Module } from '@nestjs/common';
import { EmbedderRegistry } from './embedder-registry';
import { EmbeddingCache } from './embedding-cache';

/** The embedders of the embedding generations, and the cache chunk embeddings go through. */
@Module({
  providers: [EmbedderRegistry, EmbeddingCache],
  exports: [EmbedderRegistry, EmbeddingCache],
})
export class EmbedderRegistryModule {}
