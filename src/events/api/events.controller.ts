import { BadRequestException, Controller, Get, Headers, NotFoundException, Param, ParseUUIDPipe, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Access } from '../../auth/access.decorators';
import { ApiErrors } from '../../common/api-errors.decorator';
import { NAMESPACE_PATTERN, NAMESPACE_RULE } from '../../common/namespace';
import { StatusStreamsService } from './status-streams.service';

const uuidPipe = new ParseUUIDPipe({ exceptionFactory: () => new NotFoundException('document not found (ids are UUIDs)') });

/** Live status as Server-Sent Events (`event: status`, JSON `data`). */
@ApiTags('events')
@Controller('v1')
export class EventsController {
  constructor(private readonly streams: StatusStreamsService) {}

  /** One document's changes; ends after `ready` or `failed` (at once if it already is). */
  @Get('documents/:id/events')
  @ApiOperation({ summary: "A document's live status (Server-Sent Events)", description: '`event: status` per change; the stream ends after `ready` or `failed`.' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ description: '`status` events (JSON data)', content: { 'text/event-stream': { schema: { type: 'string' } } } })
  @ApiErrors([404, 503])
  @Access({ scope: 'documents:read', namespace: 'document' })
  async document(@Param('id', uuidPipe) id: string, @Res() res: Response): Promise<void> {
    await this.streams.document(id, res);
  }

  /**
   * Every change in a namespace, without end. A reconnecting client sends `Last-Event-ID`
   * (browsers do) or `?lastEventId=` and receives what it missed first.
   */
  @Get('events')
  @ApiOperation({ summary: "A namespace's live status (Server-Sent Events)", description: 'Every change in the namespace, without end; `Last-Event-ID` resumes.' })
  @ApiQuery({ name: 'namespace', required: true, example: 'demo' })
  @ApiQuery({ name: 'lastEventId', required: false, description: 'resume after this event (the Last-Event-ID header does the same)' })
  @ApiOkResponse({ description: '`status` events (JSON data)', content: { 'text/event-stream': { schema: { type: 'string' } } } })
  @ApiErrors([400, 404, 503])
  @Access({ scope: 'documents:read', namespace: 'query' })
  async namespace(
    @Query('namespace') namespace: unknown,
    @Query('lastEventId') lastEventIdQuery: unknown,
    @Headers('last-event-id') lastEventIdHeader: string | undefined,
    @Res() res: Response,
  ): Promise<void> {
    if (typeof namespace !== 'string' || !NAMESPACE_PATTERN.test(namespace)) {
      throw new BadRequestException(`namespace is required and ${NAMESPACE_RULE}`);
    }
    if (lastEventIdQuery !== undefined && typeof lastEventIdQuery !== 'string') {
      throw new BadRequestException('lastEventId must be given once');
    }
    await this.streams.namespace(namespace, lastEventIdHeader ?? lastEventIdQuery, res);
  }
}
