import { Controller, Delete, Get, HttpCode, Post } from '@nestjs/common';
import { Access } from '../../auth/access.decorators';
import { ReindexService, ReindexView } from './reindex.service';

/**
 * `/v1/reindex`: re-embed every document with the configured model into a new
 * generation while search keeps answering from the current one, then switch atomically.
 */
@Controller('v1/reindex')
@Access({ scope: 'admin' })
export class ReindexController {
  constructor(private readonly reindex: ReindexService) {}

  /** Starts (or resumes) the re-embed; 202 with its progress. */
  @Post()
  @HttpCode(202)
  start(): Promise<ReindexView> {
    return this.reindex.start();
  }

  @Get()
  status(): Promise<ReindexView> {
    return this.reindex.status();
  }

  /** Cancels the running re-embed. */
  @Delete()
  cancel(): Promise<ReindexView> {
    return this.reindex.cancel();
  }
}
