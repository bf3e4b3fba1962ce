import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { redisOptions } from '../common/redis-options';
import { LoggedStatusEvent, StatusEvent } from './status-event';

// Appends to the namespace's capped stream and publishes the event with its id in one
// step, so a subscriber can tell which live events its history read already covered.
// The expiry drops the history of a namespace that went quiet.
const APPEND_AND_PUBLISH = `
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'e', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('PUBLISH', ARGV[3], id .. ' ' .. ARGV[2])
return id`;

/**
 * Status events in Redis, under the queue prefix: a capped stream per namespace (the
 * history `Last-Event-ID` resumes from) and one pub/sub channel that every API replica
 * listens to. Works the same whichever process publishes and whichever serves a client.
 */
@Injectable()
export class StatusEventLog implements OnModuleDestroy {
  private readonly redis: Redis;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.redis = new Redis({ ...redisOptions(config.redis), maxRetriesPerRequest: 2, lazyConnect: true });
  }

  /** The pub/sub channel of this deployment's events. */
  get channel(): string {
    return `${this.config.queue.prefix}:events`;
  }

  private streamKey(namespace: string): string {
    return `${this.config.queue.prefix}:events:ns:${namespace}`;
  }

  /** Records and broadcasts the event; returns its id. */
  async append(event: StatusEvent): Promise<string> {
    const id = await this.redis.eval(
      APPEND_AND_PUBLISH,
      1,
      this.streamKey(event.namespace),
      String(this.config.events.historyLength),
      JSON.stringify(event),
      this.channel,
      String(this.config.events.historyTtlHours * 3600),
    );
    return String(id);
  }

  /** Up to `count` events of the namespace recorded after `afterId`, oldest first. */
  async after(namespace: string, afterId: string, count: number): Promise<LoggedStatusEvent[]> {
    const rows = await this.redis.xrange(this.streamKey(namespace), `(${afterId}`, '+', 'COUNT', count);
    return rows.map(([id, fields]) => ({ id, event: JSON.parse(fields[1]) as StatusEvent }));
  }

  async onModuleDestroy(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/** Parses a channel message `<id> <json>` as `append` publishes it. */
export function parseBroadcast(message: string): LoggedStatusEvent | null {
  const space = message.indexOf(' ');
  if (space < 0) return null;
  try {
    return { id: message.slice(0, space), event: JSON.parse(message.slice(space + 1)) as StatusEvent };
  } catch {
    return null;
  }
}
