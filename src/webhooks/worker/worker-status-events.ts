import { Injectable } from '@nestjs/common';
import { RedisStatusEvents } from '../../events/redis-status-events';
import { StatusEvent } from '../../events/status-event';
import { StatusEvents } from '../../events/status-events';
import { WebhookDispatcher } from './webhook-dispatcher';

/** A worker's `StatusEvents`: every change to the live streams, final ones to webhooks too. */
@Injectable()
export class WorkerStatusEvents implements StatusEvents {
  constructor(
    private readonly live: RedisStatusEvents,
    private readonly webhooks: WebhookDispatcher,
  ) {}

  async publish(change: Omit<StatusEvent, 'at'>): Promise<void> {
    const event: StatusEvent = { ...change, at: new Date().toISOString() };
    await this.live.appendQuietly(event);
    if (event.status === 'ready' || event.status === 'failed') await this.webhooks.dispatchQuietly(event);
  }
}
