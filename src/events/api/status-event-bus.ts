import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { redisOptions } from '../../common/redis-options';
import { LoggedStatusEvent } from '../status-event';
import { StatusEventLog, parseBroadcast } from '../status-event-log';

export type StatusListener = (logged: LoggedStatusEvent) => void;

/**
 * This replica's one subscription to the events channel, fanned out in-process to its
 * SSE clients: a replica holds one Redis connection for events, however many clients.
 */
@Injectable()
export class StatusEventBus implements OnModuleDestroy {
  private readonly logger = new Logger(StatusEventBus.name);
  private readonly listeners = new Set<StatusListener>();
  private subscriber: Redis | null = null;
  private subscribed: Promise<void> | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly log: StatusEventLog,
  ) {}

  /** Calls `listener` with every event from now on; resolves once the subscription is live. */
  async listen(listener: StatusListener): Promise<() => void> {
    this.listeners.add(listener);
    try {
      await this.connect();
    } catch (err) {
      this.listeners.delete(listener);
      throw err;
    }
    return () => this.listeners.delete(listener);
  }

  private connect(): Promise<void> {
    // Subscribed lazily: processes that serve no stream hold no subscriber connection.
    this.subscribed ??= (async () => {
      const subscriber = new Redis({ ...redisOptions(this.config.redis), maxRetriesPerRequest: null });
      this.subscriber = subscriber;
      subscriber.on('error', (err: Error) => this.logger.warn(`events subscriber: ${err.message}`));
      subscriber.on('message', (_channel: string, message: string) => this.deliver(message));
      await subscriber.subscribe(this.log.channel);
    })().catch((err: unknown) => {
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
