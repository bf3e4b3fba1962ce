import { BadRequestException, ConflictException, Controller, Get, HttpCode, NotFoundException, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { Access, CurrentPrincipal } from '../../auth/access.decorators';
import { Principal, holdsNamespace, namespaceFilter } from '../../auth/principal';
import { ApiErrors } from '../../common/api-errors.decorator';
import { WebhookDeliveriesRepository } from '../webhook-deliveries.repository';
import { WebhookQueue } from '../webhook.queue';
import { ListDeliveriesQuery } from './dto/list-deliveries.query';
import { DeliveryPageResponse, DeliveryResponse } from './dto/webhook.responses';
import { DeliveryView, toDeliveryView } from './webhook.views';

const uuidPipe = new ParseUUIDPipe({ exceptionFactory: () => new NotFoundException('delivery not found (ids are UUIDs)') });

function encodeCursor(d: DeliveryView): string {
  return Buffer.from(`${d.createdAt}|${d.id}`).toString('base64url');
}

function decodeCursor(raw: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(raw, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (!id || !/^[0-9a-f-]{36}$/.test(id) || Number.isNaN(createdAt.getTime())) {
    throw new BadRequestException('cursor is not valid: pass the nextCursor of a previous page');
  }
  return { createdAt, id };
}

/** Webhook deliveries: what was sent where and how it went; failed ones can be sent again. */
@ApiTags('webhooks')
@Controller('v1/webhook-deliveries')
export class WebhookDeliveriesController {
  constructor(
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly queue: WebhookQueue,
  ) {}

  /** Newest first; `?status=failed` lists those that failed for good. */
  @Get()
  @ApiOperation({ summary: 'List webhook deliveries', description: 'Newest first; `status=failed` lists those that failed for good.' })
  @ApiOkResponse({ type: DeliveryPageResponse })
  @ApiErrors([400, 404])
  @Access({ scope: 'documents:read', namespace: 'query', everyNamespaceScope: 'admin' })
  async list(@Query() query: ListDeliveriesQuery, @CurrentPrincipal() principal: Principal): Promise<{ items: DeliveryView[]; nextCursor: string | null }> {
    if (query.namespace === undefined && namespaceFilter(principal) !== undefined) {
      throw new BadRequestException('namespace is required: this API key holds only some namespaces');
    }
    const limit = query.limit ?? 20;
    const before = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const rows = await this.deliveries.list({ status: query.status, namespace: query.namespace, limit: limit + 1, before });
    const items = rows.slice(0, limit).map(toDeliveryView);
    return { items, nextCursor: rows.length > limit ? encodeCursor(items[items.length - 1]) : null };
  }

  @Get(':id')
  @ApiOperation({ summary: 'A webhook delivery' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: DeliveryResponse })
  @ApiErrors([404])
  @Access({ scope: 'documents:read' })
  async get(@Param('id', uuidPipe) id: string, @CurrentPrincipal() principal: Principal): Promise<DeliveryView> {
    const delivery = await this.deliveries.get(id);
    // Another namespace's delivery answers as a missing one: its existence is not disclosed.
    if (!delivery || !holdsNamespace(principal, delivery.namespace)) throw new NotFoundException(`delivery ${id} not found`);
    return toDeliveryView(delivery);
  }

  /** Sends a failed delivery again, with its retries from the start; 409 unless it failed. */
  @Post(':id/retry')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send a failed delivery again', description: 'With its retries from the start; 409 unless it failed.' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiAcceptedResponse({ type: DeliveryResponse, description: 'the delivery, queued again' })
  @ApiErrors([404, 409])
  @Access({ scope: 'documents:write' })
  async retry(@Param('id', uuidPipe) id: string, @CurrentPrincipal() principal: Principal): Promise<DeliveryView> {
    const existing = await this.deliveries.get(id);
    if (!existing || !holdsNamespace(principal, existing.namespace)) throw new NotFoundException(`delivery ${id} not found`);
    const reopened = await this.deliveries.reopen(id);
    if (!reopened) {
      if (!(await this.deliveries.get(id))) throw new NotFoundException(`delivery ${id} not found`);
      throw new ConflictException(`delivery ${id} has not failed: only failed deliveries can be retried`);
    }
    await this.queue.enqueue(reopened.id, reopened.retries);
    return toDeliveryView(reopened);
  }
}
