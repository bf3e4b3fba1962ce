import { BadRequestException, ConflictException, Controller, Get, HttpCode, NotFoundException, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { WebhookDeliveriesRepository } from '../webhook-deliveries.repository';
import { WebhookQueue } from '../webhook.queue';
import { ListDeliveriesQuery } from './dto/list-deliveries.query';
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
@Controller('v1/webhook-deliveries')
export class WebhookDeliveriesController {
  constructor(
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly queue: WebhookQueue,
  ) {}

  /** Newest first; `?status=failed` lists those that failed for good. */
  @Get()
  async list(@Query() query: ListDeliveriesQuery): Promise<{ items: DeliveryView[]; nextCursor: string | null }> {
    const limit = query.limit ?? 20;
    const before = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const rows = await this.deliveries.list({ status: query.status, namespace: query.namespace, limit: limit + 1, before });
    const items = rows.slice(0, limit).map(toDeliveryView);
    return { items, nextCursor: rows.length > limit ? encodeCursor(items[items.length - 1]) : null };
  }

  @Get(':id')
  async get(@Param('id', uuidPipe) id: string): Promise<DeliveryView> {
    const delivery = await this.deliveries.get(id);
    if (!delivery) throw new NotFoundException(`delivery ${id} not found`);
    return toDeliveryView(delivery);
  }

  /** Sends a failed delivery again, with its retries from the start; 409 unless it failed. */
  @Post(':id/retry')
  @HttpCode(202)
  async retry(@Param('id', uuidPipe) id: string): Promise<DeliveryView> {
    const reopened = await this.deliveries.reopen(id);
    if (!reopened) {
      if (!(await this.deliveries.get(id))) throw new NotFoundException(`delivery ${id} not found`);
      throw new ConflictException(`delivery ${id} has not failed: only failed deliveries can be retried`);
    }
    await this.queue.enqueue(reopened.id, reopened.retries);
    return toDeliveryView(reopened);
  }
}
