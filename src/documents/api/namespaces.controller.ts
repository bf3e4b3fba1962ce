import { Controller, Get, NotFoundException, Param } from '@nestjs/common';
import { Access } from '../../auth/access.decorators';
import { NAMESPACE_PATTERN } from '../../common/namespace';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/api-errors.decorator';
import { DocumentsService } from './documents.service';
import { NamespaceUsageResponse } from './dto/document.responses';
import { BackfillStatusResponse } from './dto/backfill-status.response';
import { NamespaceIndexes } from '../../vector-store/backfill/namespace-indexes.repository';
import { toBackfillStatus } from './backfill-status.view';

/** Per-namespace figures: what its documents cost to embed, where its backfill stands. */
@ApiTags('namespaces')
@Controller('v1/namespaces')
export class NamespacesController {
  constructor(
    private readonly documents: DocumentsService,
    private readonly indexes: NamespaceIndexes,
  ) {}

  /** `{ namespace, documents, chunks, embeddingTokens, embeddingCharacters, tokensEstimated }` over the namespace's current documents. */
  @Get(':namespace/usage')
  @ApiOperation({ summary: "A namespace's embedding cost", description: 'Over its current documents, every version and re-embed.' })
  @ApiParam({ name: 'namespace', example: 'demo' })
  @ApiOkResponse({ type: NamespaceUsageResponse })
  @ApiErrors([404], { 404: 'not a valid namespace name' })
  @Access({ scope: 'documents:read', namespace: 'param' })
  async usage(@Param('namespace') namespace: string) {
    if (!NAMESPACE_PATTERN.test(namespace)) throw new NotFoundException(`namespace ${namespace} not found`);
    const u = await this.documents.usage(namespace);
    return {
      namespace,
      documents: u.documents,
      chunks: u.chunks,
      embeddingTokens: u.tokens,
      embeddingCharacters: u.characters,
      tokensEstimated: u.estimated,
    };
  }

  /** Where the namespace's backfill stands: its documents by status and its own HNSW index. */
  @Get(':namespace/backfill')
  @ApiOperation({
    summary: "A namespace's backfill",
    description: 'After `POST /v1/documents/batch` with `mode: backfill`: documents by status, the index build, and how vector search ranks the namespace meanwhile.',
  })
  @ApiParam({ name: 'namespace', example: 'demo' })
  @ApiOkResponse({ type: BackfillStatusResponse })
  @ApiErrors([404], { 404: 'not a valid namespace name' })
  @Access({ scope: 'documents:read', namespace: 'param' })
  async backfill(@Param('namespace') namespace: string): Promise<BackfillStatusResponse> {
    if (!NAMESPACE_PATTERN.test(namespace)) throw new NotFoundException(`namespace ${namespace} not found`);
    const [index, documents] = await Promise.all([this.indexes.find(namespace), this.indexes.documentCounts(namespace)]);
    return toBackfillStatus(namespace, index, documents);
  }
}
