import { Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/api-errors.decorator';
import { Access, CurrentPrincipal } from '../../auth/access.decorators';
import { Principal, namespaceFilter } from '../../auth/principal';
import { DeadLettersService } from './dead-letters.service';
import { DeadLetterPageResponse, RequeuedManyResponse, RequeuedResponse } from './dto/dead-letter.responses';
import { ListDeadLettersQuery, RetryDeadLettersDto } from './dto/dead-letters.query';

const uuidPipe = new ParseUUIDPipe({ exceptionFactory: () => new NotFoundException('dead letter not found (ids are document UUIDs)') });

/** Documents that failed for good: inspect, re-queue, discard. A dead letter's id is its document's id. */
@ApiTags('dead letters')
@Controller('v1/dead-letters')
export class DeadLettersController {
  constructor(private readonly deadLetters: DeadLettersService) {}

  @Get()
  @ApiOperation({ summary: 'List dead letters', description: 'Documents that failed for good, newest first, with their error history.' })
  @ApiOkResponse({ type: DeadLetterPageResponse })
  @ApiErrors([400])
  @Access({ scope: 'documents:read', namespace: 'query', everyNamespaceScope: 'admin' })
  list(@Query() query: ListDeadLettersQuery, @CurrentPrincipal() principal: Principal) {
    return this.deadLetters.list(query, namespaceFilter(principal));
  }

  @Post('retry')
  @HttpCode(202)
  @ApiOperation({ summary: 'Re-queue many dead letters' })
  @ApiAcceptedResponse({ type: RequeuedManyResponse })
  @ApiErrors([400])
  @Access({ scope: 'documents:write', namespace: 'body-filter', everyNamespaceScope: 'admin' })
  retryMany(@Body() dto: RetryDeadLettersDto, @CurrentPrincipal() principal: Principal) {
    return this.deadLetters.retryMany(dto, namespaceFilter(principal));
  }

  @Post(':id/retry')
  @Access({ scope: 'documents:write', namespace: 'document', notFound: 'no dead letter for document :id' })
  @HttpCode(202)
  @ApiOperation({ summary: 'Re-queue one dead letter', description: 'Under a new version, with fresh attempts.' })
  @ApiParam({ name: 'id', format: 'uuid', description: "the document's id" })
  @ApiAcceptedResponse({ type: RequeuedResponse })
  @ApiErrors([404])
  retry(@Param('id', uuidPipe) id: string) {
    return this.deadLetters.retry(id);
  }

  @Delete(':id')
  @Access({ scope: 'documents:write', namespace: 'document', notFound: 'no dead letter for document :id' })
  @HttpCode(204)
  @ApiOperation({ summary: 'Discard a dead letter', description: 'The document stays failed.' })
  @ApiParam({ name: 'id', format: 'uuid', description: "the document's id" })
  @ApiNoContentResponse({ description: 'discarded' })
  @ApiErrors([404])
  async discard(@Param('id', uuidPipe) id: string): Promise<void> {
    await this.deadLetters.discard(id);
  }
}
