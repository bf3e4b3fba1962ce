import { Controller, Delete, Get, HttpCode, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/api-errors.decorator';
import { ReindexResponse } from './dto/reindex.responses';
import { Access } from '../../auth/access.decorators';
import { ReindexService, ReindexView } from './reindex.service';

/**
 * `/v1/reindex`: re-embed every document with the configured model into a new
 * generation while search keeps answering from the current one, then switch atomically.
 */
@ApiTags('reindex')
@Controller('v1/reindex')
@Access({ scope: 'admin' })
export class ReindexController {
  constructor(private readonly reindex: ReindexService) {}

  /** Starts (or resumes) the re-embed; 202 with its progress. */
  @Post()
  @HttpCode(202)
  @ApiOperation({ summary: 'Re-embed every document with the configured model', description: 'Search answers from the current generation until the switch.' })
  @ApiAcceptedResponse({ type: ReindexResponse })
  @ApiErrors([409], { 409: 'a re-embed for another model is running, or this model\'s vectors cannot be indexed' })
  start(): Promise<ReindexView> {
    return this.reindex.start();
  }

  @Get()
  @ApiOperation({ summary: 'Re-embed progress' })
  @ApiOkResponse({ type: ReindexResponse })
  @ApiErrors([503])
  status(): Promise<ReindexView> {
    return this.reindex.status();
  }

  /** Cancels the running re-embed. */
  @Delete()
  @ApiOperation({ summary: 'Cancel the running re-embed', description: 'Drops what it built.' })
  @ApiOkResponse({ type: ReindexResponse })
  @ApiErrors([404], { 404: 'no re-embed is running' })
  cancel(): Promise<ReindexView> {
    return this.reindex.cancel();
  }
}
