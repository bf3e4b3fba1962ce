import { Controller, Get, NotFoundException, Param } from '@nestjs/common';
import { Access } from '../../auth/access.decorators';
import { NAMESPACE_PATTERN } from '../../common/namespace';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/api-errors.decorator';
import { DocumentsService } from './documents.service';
import { NamespaceUsageResponse } from './dto/document.responses';

/** Per-namespace figures: what its documents cost to embed. */
@ApiTags('namespaces')
@Controller('v1/namespaces')
export class NamespacesController {
  constructor(private readonly documents: DocumentsService) {}

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
}
