import { HttpException, HttpStatus, Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/app-config';
import { RedisClient, createRedisClient } from '../common/redis-client';
import { RateBudget } from './access.decorators';
import { Principal } from './principal';

const WINDOW_MS = 60000;

// One round trip: count the request and start the window's expiry with its first request.
const HIT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`;

export interface RateDecision {
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
}

/**
 * Per-caller budgets per minute, counted in Redis so every replica shares them: a fixed one-minute window per
 * budget and caller (a key's id, or the client address in open mode), under the queue prefix.
 */
@Injectable()
export class RateLimiter implements OnModuleDestroy {
  private readonly logger = new Logger('RateLimiter');
  private readonly redis: RedisClient;
  private readonly prefix: string;
  private lastWarnAt = 0;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.prefix = `${config.queue.prefix}:ratelimit`;
    this.redis = createRedisClient(config.redis, {
      lazyConnect: true,
      enableOfflineQueue: true,
      maxRetriesPerRequest: 0,
      commandTimeout: 500,
      connectionName: 'rate-limiter',
    });
    this.redis.on('error', () => undefined);
  }

  /** Counts one request; throws 429 with Retry-After once the budget is spent. Null when the budget is off. */
  async hit(budget: RateBudget, p: Principal, clientAddress: string): Promise<RateDecision | null> {
    const limit = this.limitFor(budget, p);
    if (limit === 0) return null;
    const caller = p.kind === 'open' ? `addr:${clientAddress}` : p.id;
    const now = Date.now();
    const window = Math.floor(now / WINDOW_MS);
    const resetSeconds = Math.max(1, Math.ceil(((window + 1) * WINDOW_MS - now) / 1000));
    let count: number;
    try {
      count = Number(await this.redis.eval(HIT, 1, `${this.prefix}:${budget}:${caller}:${window}`, WINDOW_MS + 1000));
    } catch (err) {
      // Limits protect capacity; they must not take the API down with Redis. Accept, and say so (at most once a minute).
      if (now - this.lastWarnAt > WINDOW_MS) {
        this.lastWarnAt = now;
        this.logger.warn(`rate limits not enforced, Redis unavailable: ${err instanceof Error ? err.message : String(err)}`);
      }
      return null;
    }
    const decision = { limit, remaining: Math.max(0, limit - count), resetSeconds };
    if (count > limit) {
      throw new RateLimitedException(budget, decision);
    }
    return decision;
  }

  private limitFor(budget: RateBudget, p: Principal): number {
    const defaults = this.config.auth.rateLimits;
    return budget === 'write' ? (p.rateLimits.writePerMin ?? defaults.writePerMin) : (p.rateLimits.searchPerMin ?? defaults.searchPerMin);
  }

  async onModuleDestroy(): Promise<void> {
    this.redis.disconnect();
  }
}

/** 429 carrying the figures for Retry-After and the X-RateLimit-* headers. */
export class RateLimitedException extends HttpException {
  constructor(
    budget: RateBudget,
    readonly decision: RateDecision,
  ) {
    super(
      {
        statusCode: 429,
        error: 'Too Many Requests',
        message: `${budget} rate limit of ${decision.limit} requests per minute reached; retry in ${decision.resetSeconds} s`,
      },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}
