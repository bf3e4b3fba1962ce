import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/app-config';
import { DEFAULT_NAMESPACE } from '../common/namespace';
import { EMBEDDING_PROVIDER, EmbeddingProvider } from '../embedding/embedding-provider';
import { ChunkHit, ChunkRepository } from './chunk.repository';
import { SearchDto } from './dto/search.dto';

/** Embeds the query with the same provider as the chunks and returns the nearest chunks. */
@Injectable()
export class SearchService {
  constructor(
    private readonly chunks: ChunkRepository,
    @Inject(EMBEDDING_PROVIDER) private readonly embedder: EmbeddingProvider,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async search(dto: SearchDto): Promise<ChunkHit[]> {
    const { defaultTopK, maxTopK, efSearch } = this.config.search;
    const topK = dto.topK ?? defaultTopK;
    if (topK > maxTopK) throw new BadRequestException(`topK must not be greater than ${maxTopK}`);
    const [embedding] = await this.embedder.embed([dto.query]);
    return this.chunks.search({
      embedding,
      namespace: dto.namespace ?? DEFAULT_NAMESPACE,
      topK,
      filter: dto.filter ?? {},
      efSearch: Math.max(efSearch, topK),
    });
  }
}
