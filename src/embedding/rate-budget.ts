import Redis, { RedisOptions } from 'ioredis';

/**
 * Admission control in front of an embedding API. The provider calls `acquire` before
 * every request (retries included) and `pause` when the upstream answers 429.
 */
export interface EmbeddingRateBudget {
  /**
   * Resolves when one request carrying about `tokens` tokens may be sent, having taken
   * them from the budget. Rejects only when the budget's store is unreachable.
   */
  acquire(tokens: number): Promise<void>;
  /** Stops every holder of this budget from sending for `ms` milliseconds (e.g. after a 429). */
  pause(ms: number): Promise<void>;
  /** Releases the connection held by the budget. */
  close?(): Promise<void>;
}

/** Options of {@link RedisRateBudget}. Limits of 0 mean "no limit" for that dimension. */
export interface RedisRateBudgetOptions {
  /** Requests per minute across every process sharing `keyPrefix`. */
  requestsPerMinute: number;
  /** Tokens per minute across every process sharing `keyPrefix`. */
  tokensPerMinute: number;
  /**
   * Redis key prefix; processes with the same prefix share one budget. Wrapped in a
   * hash tag so both keys live in one Redis Cluster slot.
   */
  keyPrefix: string;
  /**
   * How much unused budget may accumulate, in seconds of the configured rate (default 1):
   * the largest burst is this many seconds' worth of requests (at least one request).
   * Small values spread requests evenly, which is what upstream limiters that enforce
   * per-minute limits over shorter windows expect.
   */
  burstSeconds?: number;
  /** Upper bound on one sleep between admission checks, ms (default 1000). */
  maxPollMs?: number;
}

/**
 * Token bucket for requests and one for tokens, refilled continuously at the configured
 * per-minute rates, plus a shared "blocked until" time. Evaluated atomically in Redis
 * with the server's clock, so processes on different machines agree without synchronised
 * clocks. A request larger than the token bucket's capacity is admitted when the bucket
 * is full and leaves it in debt, so the long-run rate still holds.
 */
const ACQUIRE_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local blocked = tonumber(redis.call('GET', KEYS[2]) or '0')
if blocked > now then return blocked - now end
local rpm, tpm = tonumber(ARGV[1]), tonumber(ARGV[2])
local reqCap, tokCap, cost = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local h = redis.call('HMGET', KEYS[1], 'r', 't', 'ts')
local elapsed = 0
if h[3] then elapsed = math.max(0, now - tonumber(h[3])) end
local r, tk = reqCap, tokCap
if h[1] then r = math.min(reqCap, tonumber(h[1]) + elapsed * rpm / 60000) end
if h[2] then tk = math.min(tokCap, tonumber(h[2]) + elapsed * tpm / 60000) end
local wait = 0
if rpm > 0 and r < 1 then wait = math.ceil((1 - r) * 60000 / rpm) end
local need = math.min(cost, tokCap)
if tpm > 0 and tk < need then wait = math.max(wait, math.ceil((need - tk) * 60000 / tpm)) end
if wait > 0 then return wait end
local ttl = 1000
if rpm > 0 then
  r = r - 1
  ttl = math.max(ttl, math.ceil((reqCap - r) * 60000 / rpm) + 1000)
end
if tpm > 0 then
  tk = tk - cost
  ttl = math.max(ttl, math.ceil((tokCap - tk) * 60000 / tpm) + 1000)
end
redis.call('HSET', KEYS[1], 'r', tostring(r), 't', tostring(tk), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], ttl)
return 0
`;

/**
 * Blocks the budget until now + ms. The request bucket restarts from one request at
 * that moment (and tokens do not refill meanwhile), so the processes that waited resume
 * at the configured pace instead of in one burst into an upstream that just refused.
 */
const PAUSE_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ms = tonumber(ARGV[1])
local untilMs = now + ms
local cur = tonumber(redis.call('GET', KEYS[2]) or '0')
if cur >= untilMs then return cur end
redis.call('SET', KEYS[2], tostring(untilMs), 'PX', ms)
redis.call('HSET', KEYS[1], 'r', tostring(math.min(1, tonumber(ARGV[2]))), 'ts', tostring(untilMs))
redis.call('PEXPIRE', KEYS[1], ms + 60000)
return untilMs
`;

interface BudgetCommands {
  embeddingBudgetAcquire(bucket: string, blocked: string, ...args: Array<string | number>): Promise<number>;
  embeddingBudgetPause(bucket: string, blocked: string, ms: number, requestCapacity: number): Promise<number>;
}

/**
 * One requests-per-minute and tokens-per-minute budget shared by every worker process
 * through Redis; a 429 seen by one process pauses all of them.
 */
export class RedisRateBudget implements EmbeddingRateBudget {
  private readonly commands: BudgetCommands;
  private readonly bucketKey: string;
  private readonly blockedKey: string;
  private readonly requestCapacity: number;
  private readonly tokenCapacity: number;
  private readonly maxPollMs: number;

  /**
   * @param redis connection used for the budget's scripts; closed by `close()` only when
   *   `ownsConnection` is true.
   */
  constructor(
    private readonly redis: Redis,
    private readonly options: RedisRateBudgetOptions,
    private readonly ownsConnection = false,
  ) {
    const burst = options.burstSeconds ?? 1;
    this.requestCapacity = Math.max(1, (options.requestsPerMinute / 60) * burst);
    this.tokenCapacity = Math.max(1, (options.tokensPerMinute / 60) * burst);
    this.maxPollMs = options.maxPollMs ?? 1000;
    const tag = `{${options.keyPrefix}}`;
    this.bucketKey = `${tag}:bucket`;
    this.blockedKey = `${tag}:blocked-until`;
    redis.defineCommand('embeddingBudgetAcquire', { numberOfKeys: 2, lua: ACQUIRE_LUA });
    redis.defineCommand('embeddingBudgetPause', { numberOfKeys: 2, lua: PAUSE_LUA });
    this.commands = redis as unknown as BudgetCommands;
  }

  /** Opens its own Redis connection (closed by `close()`). */
  static connect(redisOptions: RedisOptions, options: RedisRateBudgetOptions): RedisRateBudget {
    const redis = new Redis({ ...redisOptions, maxRetriesPerRequest: 3, connectionName: 'embedding-rate-budget' });
    // Errors surface through the rejected commands; keep ioredis from logging them as unhandled.
    redis.on('error', () => undefined);
    return new RedisRateBudget(redis, options, true);
  }

  /** True when neither a request nor a token limit is configured: only 429 pauses apply. */
  get unlimited(): boolean {
    return this.options.requestsPerMinute <= 0 && this.options.tokensPerMinute <= 0;
  }

  async acquire(tokens: number): Promise<void> {
    for (;;) {
      const waitMs = Number(
        await this.commands.embeddingBudgetAcquire(
          this.bucketKey,
          this.blockedKey,
          Math.max(0, this.options.requestsPerMinute),
          Math.max(0, this.options.tokensPerMinute),
          this.requestCapacity,
          this.tokenCapacity,
          Math.max(0, Math.ceil(tokens)),
        ),
      );
      if (waitMs <= 0) return;
      // Jitter so that processes woken by the same refill do not all ask in the same millisecond.
      await sleep(Math.min(this.maxPollMs, waitMs) + Math.floor(Math.random() * 10));
    }
  }

  async pause(ms: number): Promise<void> {
    if (ms <= 0) return;
    await this.commands.embeddingBudgetPause(this.bucketKey, this.blockedKey, Math.ceil(ms), this.requestCapacity);
  }

  async close(): Promise<void> {
    if (!this.ownsConnection) return;
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
