import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { Access } from '../../auth/access.decorators';
import { ChunkHit } from '../chunk.repository';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/api-errors.decorator';
import { SearchDto } from './dto/search.dto';
import { SearchResponse } from './dto/search.responses';
import { SearchService } from './search.service';

@ApiTags('search')
@Controller('v1/search')
export class SearchController {
  constructor(private readonly searchService: SearchService) {}

  /**
   * The best chunks for a query: `{ mode, groupBy: "chunk", results: [{ documentId, chunkId,
   * chunkIndex, content, context, score, ranks: { vector?, keyword? }, metadata, title,
   * externalId }] }`; with `groupBy: "document"`, `results: [{ documentId, title,
   * externalId, metadata, score, chunks: [...] }]`, each document once.
   */
  @Post()
  @HttpCode(200)
  @ApiOperation({ summary: 'Search', description: 'Hybrid (vector + keyword), vector or keyword retrieval over the chunks.' })
  @ApiOkResponse({ type: SearchResponse })
  @ApiErrors([400, 413, 503])
  @Access({ scope: 'search', namespace: 'body', budget: 'search' })
  async search(@Body() dto: SearchDto) {
    const r = await this.searchService.search(dto);
    if (r.groupBy === 'chunk') return { mode: r.mode, groupBy: r.groupBy, results: r.chunks.map(chunkView) };
    return {
      mode: r.mode,
      groupBy: r.groupBy,
      results: r.documents.map((d) => ({
        documentId: d.documentId,
        title: d.title,
        externalId: d.externalId,
        metadata: d.metadata,
        score: d.score,
        chunks: d.chunks.map(chunkFields),
      })),
    };
  }
}

/** A chunk's own fields (inside a grouped document, the document's are given once). */
function chunkFields(h: ChunkHit) {
  return { chunkId: h.chunkId, chunkIndex: h.chunkIndex, content: h.content, context: h.context, score: h.score, ranks: h.ranks };
}

function chunkView(h: ChunkHit) {
  return { documentId: h.documentId, ...chunkFields(h), metadata: h.metadata, title: h.title, externalId: h.externalId };
}
