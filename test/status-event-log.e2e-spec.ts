import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { loadConfig } from '../src/config/app-config';
import { redisOptions } from '../src/common/redis-options';
import { StatusEventLog, parseBroadcast } from '../src/events/status-event-log';
import { LoggedStatusEvent, StatusEvent } from '../src/events/status-event';
import { waitUntil } from './support/wait';

/** Calls of EVAL Redis has served so far (INFO commandstats). */
async function evalCalls(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  const m = /cmdstat_eval:calls=(\d+)/.exec(info);
  return m ? Number(m[1]) : 0;
}

describe('status event log: events appended together', () => {
  const prefix = `sel-${randomBytes(4).toString('hex')}`;
  const config = loadConfig({ ...process.env, QUEUE_PREFIX: prefix });
  const log = new StatusEventLog(config);
  const redis = new Redis(redisOptions(config.redis));
  const subscriber = new Redis(redisOptions(config.redis));
  const heard: LoggedStatusEvent[] = [];

  beforeAll(async () => {
    subscriber.on('message', (_channel: string, message: string) => {
      const logged = parseBroadcast(message);
      if (logged) heard.push(logged);
    });
    await subscriber.subscribe(log.channel);
  });

  afterAll(async () => {
    await log.onModuleDestroy();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    subscriber.disconnect();
    redis.disconnect();
  });

  it('appends events published at once in fewer calls, each recorded and broadcast in the order it was appended', async () => {
    const namespaces = [`a-${prefix}`, `b-${prefix}`];
    const events: StatusEvent[] = Array.from({ length: 60 }, (_, i) => ({
      documentId: `doc-${i}`,
      namespace: namespaces[i % 2],
      version: 1,
      status: 'processing',
      stage: 'embed',
      chunksEmbedded: i,
      chunksTotal: 60,
      at: new Date().toISOString(),
    }));
    const before = await evalCalls(redis);
    const ids = await Promise.all(events.map((e) => log.append(e)));
    const calls = (await evalCalls(redis)) - before;

    // Grouped: the events that arrive while a call is in flight go in the next one.
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThan(events.length / 2);
    // Each namespace's history holds its own events, in order, under the ids returned
    // (a stream's ids are its own: two namespaces may use the same one).
    for (const ns of namespaces) {
      const own = events.map((e, i) => ({ e, id: ids[i] })).filter((x) => x.e.namespace === ns);
      expect(new Set(own.map((x) => x.id)).size).toBe(own.length);
      const history = await log.after(ns, '0-0', 100);
      expect(history.map((h) => h.id)).toEqual(own.map((x) => x.id));
      expect(history.map((h) => h.event.documentId)).toEqual(own.map((x) => x.e.documentId));
    }
    // And every subscriber hears each event once, in order, with its id.
    await waitUntil('every broadcast', () => heard.length, (n) => n >= events.length, { timeoutMs: 5000 });
    expect(heard.map((h) => h.id)).toEqual(ids);
    expect(heard.map((h) => h.event)).toEqual(events);
  });

  it('answers a single event at once, alone', async () => {
    const event: StatusEvent = { documentId: 'alone', namespace: `c-${prefix}`, version: 2, status: 'ready', chunkCount: 3, at: new Date().toISOString() };
    const before = await evalCalls(redis);
    const id = await log.append(event);
    expect(await evalCalls(redis)).toBe(before + 1);
    const [logged] = await log.after(event.namespace, '0-0', 10);
    expect(logged).toEqual({ id, event });
  });
});
