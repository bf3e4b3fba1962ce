import { Module } from '@nestjs/common';
import { ChunkRepository } from './chunk.repository';
import { EmbeddingGenerations } from './embedding-generations';
import { GenerationsRepository } from './generations.repository';

/**
 * The pgvector chunk store and its embedding generations, reconciled at start with the
 * configured model (see EmbeddingGenerations).
 */
@Module({
  providers: [ChunkRepository, GenerationsRepository, EmbeddingGenerations],
  exports: [ChunkRepository, GenerationsRepository, EmbeddingGenerations],
})
export class VectorStoreModule {}
