import { Module } from '@nestjs/common';
import { ChunkRepository } from './chunk.repository';
import { SchemaGuard } from './schema.guard';

/** The pgvector chunk store, checked at start against the configured model. */
@Module({
  providers: [ChunkRepository, SchemaGuard],
  exports: [ChunkRepository],
})
export class VectorStoreModule {}
