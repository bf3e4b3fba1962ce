import { Module } from '@nestjs/common';
import { SearchController } from './search.controller';
import { QueryEmbeddings } from './query-embeddings';
import { SearchGate } from './search-gate';
import { SearchService } from './search.service';
import { VectorStoreModule } from '../vector-store.module';

/** `POST /v1/search` over the chunk store. */
@Module({
  imports: [VectorStoreModule],
  controllers: [SearchController],
  providers: [SearchService, QueryEmbeddings, SearchGate],
})
export class SearchModule {}
