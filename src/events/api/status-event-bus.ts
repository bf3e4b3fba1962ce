import { Inject, Injectable, Logger, OnModuleDestroy, ServiceUnavailableException } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { RedisClient, createRedisClient } from '../../common/redis-client';
import { withTimeout } from '../../common/with-timeout';
import { LoggedStatusEvent } from '../status-event';
import { StatusEventLog, parseBroadcast } from '../status-event-log';

// A client asking for a stream should hear quickly that it cannot have one.
const SUBSCRIBE_TIMEOUT_MS = 3000;

export type StatusListener = (logged: LoggedStatusEvent) => void;

/**
 * This replica's one subscription to the events channel, fanned out in-process to its
 * SSE clients: a replica holds one Redis connection for events, however many clients.
 */
@Injectable()
export class StatusEventBus implements OnModuleDestroy {
  private readonly logger = new Logger(StatusEventBus.name);
  private readonly listeners = new Set<StatusListener>();
  private subscriber: RedisClient | null = null;
  private subscribed: Promise<void> | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly log: StatusEventLog,
  ) {}

  /**
   * Calls `listener` with every event from now on; resolves once the subscription is live,
   * or throws a 503 when Redis does not answer in time.
   */
  async listen(listener: StatusListener): Promise<() => void> {
    this.listeners.add(listener);
    try {
      await this.connect();
    } catch (err) {
      this.listeners.delete(listener);
      this.logger.warn(`events subscription failed: ${String(err)}`);
      throw new ServiceUnavailableException('live status is unavailable (Redis does not answer); poll GET /v1/documents/:id or try again');
    }
    return () => this.listeners.delete(listener);
  }

  private connect(): Promise<void> {
    // Subscribed lazily: processes that serve no stream hold no subscriber connection.
    this.subscribed ??= (async () => {
      const subscriber = createRedisClient(this.config.redis, { maxRetriesPerRequest: null });
      this.subscriber = subscriber;
      subscriber.on('error', (err: Error) => this.logger.warn(`events subscriber: ${err.message}`));
      subscriber.on('message', (_channel: string, message: string) => this.deliver(message));
      await withTimeout(subscriber.subscribe(this.log.channel), SUBSCRIBE_TIMEOUT_MS, 'events subscribe');
    })().catch((err: unknown) => {
      // Start over on the next stream rather than keep a connection that never subscribed.
      this.subscriber?.disconnect();
      this.subscriber = null;
      this.subscribed = null;
      throw err;
    });
    return this.subscribed;
  }

  private deliver(message: string): void {
    const logged = parseBroadcast(message);
    if (!logged) return;
    for (const listener of this.listeners) {
      try {
        listener(logged);
      } catch (err) {
        this.logger.warn(`status listener failed: ${String(err)}`);
      }
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.listeners.clear();
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
  }
}
