import { Injectable, Logger } from '@nestjs/common';
import { withTimeout } from '../common/with-timeout';
import { StatusEvent } from './status-event';
import { StatusEventLog } from './status-event-log';
import { StatusEvents } from './status-events';

// A live update is not worth holding up ingestion for.
const PUBLISH_TIMEOUT_MS = 1000;

/** `StatusEvents` through Redis (see StatusEventLog); failures are logged, not thrown. */
@Injectable()
export class RedisStatusEvents implements StatusEvents {
  private readonly logger = new Logger(RedisStatusEvents.name);

  constructor(private readonly log: StatusEventLog) {}

  async publish(change: Omit<StatusEvent, 'at'>): Promise<void> {
    const event: StatusEvent = { ...change, at: new Date().toISOString() };
    await this.appendQuietly(event);
  }

  /** Appends `event`; false (logged) when Redis did not take it. */
  async appendQuietly(event: StatusEvent): Promise<boolean> {
    try {
      await withTimeout(this.log.append(event), PUBLISH_TIMEOUT_MS, 'status event');
      return true;
    } catch (err) {
      this.logger.warn(`status event ${event.status} of ${event.documentId} v${event.version} not published: ${String(err)}`);
      return false;
    }
  }
}
