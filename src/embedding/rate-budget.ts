import Redis, { RedisOptions } from 'ioredis';
import { RedisClient } from '../common/redis-client';

/**
 * Admission control in front of an embedding API. The provider calls `acquire` before
 * every request (retries included), `settle` when the upstream reports the tokens it
 * counted, and `pause` when the upstream answers 429.
 */
export interface EmbeddingRateBudget {
  /**
   * Resolves when one request carrying about `tokens` tokens may be sent, having taken
   * them from the budget. Rejects only when the budget's store is unreachable.
   */
  acquire(tokens: number): Promise<void>;
  /**
   * Corrects the tokens taken for one admitted request: `charged` is what was passed to
   * `acquire` (the estimate), `actual` what the upstream counted. The difference is taken
   * from the budget, or given back (never more than `charged`, never above capacity).
   */
  settle?(charged: number, actual: number): Promise<void>;
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
 *
 * Every script starts with this prelude: KEYS = bucket, blocked-until; ARGV[1..4] = rpm,
 * tpm, request capacity, token capacity. It yields the levels refilled to now (`r`, `tk`),
 * the time they are valid from (`ts`), `waitFor(cost)` and `save`.
 */
const PRELUDE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rpm, tpm = tonumber(ARGV[1]), tonumber(ARGV[2])
local reqCap, tokCap = tonumber(ARGV[3]), tonumber(ARGV[4])
local h = redis.call('HMGET', KEYS[1], 'r', 't', 'ts')
-- A pause stores a future 'ts': nothing refills before it, and it must be kept.
local ts, elapsed = now, 0
if h[3] then
  local last = tonumber(h[3])
  if last > now then ts = last else elapsed = now - last end
end
local r, tk = reqCap, tokCap
if h[1] then r = math.min(reqCap, tonumber(h[1]) + elapsed * rpm / 60000) end
if h[2] then tk = math.min(tokCap, tonumber(h[2]) + elapsed * tpm / 60000) end
local function waitFor(cost)
  local blocked = tonumber(redis.call('GET', KEYS[2]) or '0')
  if blocked > now then return blocked - now end
  local wait = 0
  if rpm > 0 and r < 1 then wait = math.ceil((1 - r) * 60000 / rpm) end
  local need = math.min(cost, tokCap)
  if tpm > 0 and tk < need then wait = math.max(wait, math.ceil((need - tk) * 60000 / tpm)) end
  return wait
end
-- Stores the levels; the key lives until both buckets would be full again.
local function save()
  local ttl = 1000
  if rpm > 0 then ttl = math.max(ttl, math.ceil((reqCap - r) * 60000 / rpm) + 1000) end
  if tpm > 0 then ttl = math.max(ttl, math.ceil((tokCap - tk) * 60000 / tpm) + 1000) end
  redis.call('HSET', KEYS[1], 'r', tostring(r), 't', tostring(tk), 'ts', tostring(ts))
  redis.call('PEXPIRE', KEYS[1], ttl + ts - now)
end
`;

/** ARGV[5] = tokens of the request. Returns 0 when admitted (levels taken), else ms to wait. */
const ACQUIRE_LUA = `${PRELUDE}
local cost = tonumber(ARGV[5])
local wait = waitFor(cost)
if wait > 0 then return wait end
if rpm > 0 then r = r - 1 end
if tpm > 0 then tk = tk - cost end
save()
return 0
`;

/**
 * Settles one admitted request once the upstream has counted its tokens: ARGV[5] =
 * tokens charged at admission, ARGV[6] = tokens counted. Takes the excess, or gives back
 * the difference, at most what was charged and never above capacity. A missing bucket
 * is a full one (it expires only when full), so a refund into it changes nothing.
 * Returns the token level after settling, as a string.
 */
const SETTLE_LUA = `${PRELUDE}
if tpm <= 0 then return tostring(tk) end
local charged = math.max(0, tonumber(ARGV[5]))
local delta = math.max(-charged, tonumber(ARGV[6]) - charged)
if delta == 0 or (delta < 0 and not h[2]) then return tostring(tk) end
tk = math.min(tokCap, tk - delta)
save()
return tostring(tk)
`;

/** ARGV[5] = tokens of a request. Returns { wait ms, requests, tokens } as strings; changes nothing. */
const PEEK_LUA = `${PRELUDE}
return { tostring(waitFor(tonumber(ARGV[5]))), tostring(r), tostring(tk) }
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

/** The budget as every holder sees it at one moment. */
export interface RateBudgetState {
  /** How long a request of the asked-for tokens would wait now, ms (0: it would be admitted). */
  waitMs: number;
  /** Requests available now (the request bucket's level; meaningless without a request limit). */
  requests: number;
  /** Tokens available now; negative while a request larger than expected is being paid off. */
  tokens: number;
}

interface BudgetCommands {
  embeddingBudgetAcquire(bucket: string, blocked: string, ...args: Array<string | number>): Promise<number>;
  embeddingBudgetSettle(bucket: string, blocked: string, ...args: Array<string | number>): Promise<string>;
  embeddingBudgetPeek(bucket: string, blocked: string, ...args: Array<string | number>): Promise<[string, string, string]>;
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
    private readonly redis: RedisClient,
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
    redis.defineCommand('embeddingBudgetSettle', { numberOfKeys: 2, lua: SETTLE_LUA });
    redis.defineCommand('embeddingBudgetPeek', { numberOfKeys: 2, lua: PEEK_LUA });
    redis.defineCommand('embeddingBudgetPause', { numberOfKeys: 2, lua: PAUSE_LUA });
    this.commands = redis as unknown as BudgetCommands;
  }

  /** Opens its own Redis connection (closed by `close()`). */
  static connect(redisOptions: RedisOptions, options: RedisRateBudgetOptions): RedisRateBudget {
    return RedisRateBudget.owning(new Redis({ ...redisOptions, ...RedisRateBudget.tuning }), options);
  }

  /** Connection settings for a budget's own client: a few retries, then the command fails. */
  static readonly tuning = { maxRetriesPerRequest: 3, connectionName: 'embedding-rate-budget' };

  /** Takes over a client of its own (any topology; closed by `close()`). */
  static owning(redis: RedisClient, options: RedisRateBudgetOptions): RedisRateBudget {
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
        await this.commands.embeddingBudgetAcquire(this.bucketKey, this.blockedKey, ...this.limits(), tokenCount(tokens)),
      );
      if (waitMs <= 0) return;
      // Jitter so that processes woken by the same refill do not all ask in the same millisecond.
      await sleep(Math.min(this.maxPollMs, waitMs) + Math.floor(Math.random() * 10));
    }
  }

  /**
   * Settles one request admitted by `acquire(charged)` with the `actual` tokens the
   * upstream counted, atomically for every holder: a larger count leaves the bucket that
   * much lower (later requests wait for it), a smaller one gives the excess back. A no-op
   * without a token limit. Rejects only when Redis is unreachable.
   */
  async settle(charged: number, actual: number): Promise<void> {
    if (this.options.tokensPerMinute <= 0) return;
    const c = tokenCount(charged);
    const a = tokenCount(actual);
    if (c === a) return;
    await this.commands.embeddingBudgetSettle(this.bucketKey, this.blockedKey, ...this.limits(), c, a);
  }

  /** The budget now, as `acquire(tokens)` would see it, without taking anything. */
  async peek(tokens = 0): Promise<RateBudgetState> {
    const [wait, requests, available] = await this.commands.embeddingBudgetPeek(
      this.bucketKey,
      this.blockedKey,
      ...this.limits(),
      tokenCount(tokens),
    );
    return { waitMs: Number(wait), requests: Number(requests), tokens: Number(available) };
  }

  async pause(ms: number): Promise<void> {
    if (ms <= 0) return;
    await this.commands.embeddingBudgetPause(this.bucketKey, this.blockedKey, Math.ceil(ms), this.requestCapacity);
  }

  async close(): Promise<void> {
    if (!this.ownsConnection) return;
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  /** ARGV[1..4] of every bucket script. */
  private limits(): [number, number, number, number] {
    return [
      Math.max(0, this.options.requestsPerMinute),
      Math.max(0, this.options.tokensPerMinute),
      this.requestCapacity,
      this.tokenCapacity,
    ];
  }
}

/** Whole, non-negative tokens, as the bucket counts them. */
function tokenCount(tokens: number): number {
  return Number.isFinite(tokens) ? Math.max(0, Math.ceil(tokens)) : 0;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
