import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { RedisClient, createRedisClient } from '../common/redis-client';
import { CommitGroups, Pending } from '../common/commit-groups';
import { withTimeout } from '../common/with-timeout';
import { LoggedStatusEvent, StatusEvent } from './status-event';

// Appends each event to its namespace's capped stream and publishes it with its id, in
// one step per event, so a subscriber can tell which live events its history read already
// covered. The expiry drops the history of a namespace that went quiet. KEYS[i] is the
// stream of the event in ARGV[3 + i]; the ids come back in the same order.
const APPEND_AND_PUBLISH = `
local ids = {}
for i = 1, #KEYS do
  local event = ARGV[3 + i]
  local id = redis.call('XADD', KEYS[i], 'MAXLEN', '~', ARGV[1], '*', 'e', event)
  redis.call('EXPIRE', KEYS[i], ARGV[3])
  redis.call('PUBLISH', ARGV[2], id .. ' ' .. event)
  ids[i] = id
end
return ids`;

/** Events appended in one script call at most. */
const MAX_EVENTS_PER_CALL = 100;
/** Events a process holds while Redis does not answer; beyond them new ones are refused at once. */
const MAX_WAITING_EVENTS = 10000;
/**
 * How long one call may take before its events are given up: a call left unanswered by a
 * connection that broke under it must not hold up every event after it.
 */
const CALL_TIMEOUT_MS = 1000;

/**
 * Status events in Redis, under the queue prefix: a capped stream per namespace (the
 * history `Last-Event-ID` resumes from) and one pub/sub channel that every API replica
 * listens to. Works the same whichever process publishes and whichever serves a client.
 * The events a process appends while its previous call is in flight go together in the
 * next one: a busy worker announces several documents' stages in one round trip, and
 * each caller's events keep the order it appended them in.
 */
@Injectable()
export class StatusEventLog implements OnModuleDestroy {
  private readonly redis: RedisClient;
  private readonly appends = new CommitGroups<StatusEvent, string>({ maxItems: MAX_EVENTS_PER_CALL, windowMs: 0 }, (group) => this.appendGroup(group));

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.redis = createRedisClient(config.redis, { maxRetriesPerRequest: 2, lazyConnect: true });
  }

  /** The pub/sub channel of this deployment's events. */
  get channel(): string {
    return `${this.config.queue.prefix}:events`;
  }

  private streamKey(namespace: string): string {
    return `${this.config.queue.prefix}:events:ns:${namespace}`;
  }

  /** Records and broadcasts the event; returns its id. */
  append(event: StatusEvent): Promise<string> {
    if (this.appends.waitingCount >= MAX_WAITING_EVENTS) return Promise.reject(new Error(`${MAX_WAITING_EVENTS} status events already wait for Redis`));
    return this.appends.submit(event);
  }

  private async appendGroup(group: Array<Pending<StatusEvent, string>>): Promise<void> {
    const events = group.map((p) => p.item);
    const call = this.redis.eval(
      APPEND_AND_PUBLISH,
      events.length,
      ...events.map((e) => this.streamKey(e.namespace)),
      String(this.config.events.historyLength),
      this.channel,
      String(this.config.events.historyTtlHours * 3600),
      ...events.map((e) => JSON.stringify(e)),
    );
    const ids = (await withTimeout(call, CALL_TIMEOUT_MS, `appending ${events.length} status events`)) as unknown[];
    group.forEach((p, i) => p.resolve(String(ids[i])));
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
