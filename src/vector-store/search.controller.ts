import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { SearchDto } from './dto/search.dto';
import { SearchService } from './search.service';

@Controller('v1/search')
export class SearchController {
  constructor(private readonly searchService: SearchService) {}

  /** The best chunks for a query: `{ results: [{ documentId, chunkIndex, content, score, metadata, ... }] }`. */
  @Post()
  @HttpCode(200)
  async search(@Body() dto: SearchDto) {
    const hits = await this.searchService.search(dto);
    return {
      results: hits.map((h) => ({
        documentId: h.documentId,
        chunkId: h.chunkId,
        chunkIndex: h.chunkIndex,
        content: h.content,
        score: h.score,
        metadata: h.metadata,
        title: h.title,
        externalId: h.externalId,
      })),
    };
  }
}
