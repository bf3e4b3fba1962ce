import { ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { DataSource } from 'typeorm';
import { loadConfig } from '../src/config/app-config';
import { createDataSource } from '../src/database/data-source';
import { CachedEmbedder } from '../src/embedding/cached-embedder';
import { EmbeddingCache } from '../src/embedding/embedding-cache';
import { EmbeddingError } from '../src/embedding/embedding.errors';
import { createEmbeddingProvider } from '../src/embedding/embedding.module';
import { HashEmbeddingProvider } from '../src/embedding/hash-embedding.provider';
import { OpenAiEmbeddingOptions, OpenAiEmbeddingProvider } from '../src/embedding/openai/openai-embedding.provider';
import { RedisRateBudget } from '../src/embedding/rate-budget';
import { estimateTokens } from '../src/embedding/token-estimate';
import type { LoadOptions, LoadSummary } from './support/embedding-load.script';
import { FakeOpenAiServer, RecordedRequest } from './support/fake-openai.server';
import { closedPort } from './support/tcp-proxy';

const DIM = 16;

let server: FakeOpenAiServer;
const redisConfig = loadConfig().redis;

beforeAll(async () => {
  server = new FakeOpenAiServer(DIM);
  await server.start();
});
afterAll(async () => {
  await server.stop();
});
beforeEach(() => server.reset());

function provider(overrides: Partial<OpenAiEmbeddingOptions> = {}): OpenAiEmbeddingProvider {
  return new OpenAiEmbeddingProvider({
    baseUrl: server.url,
    apiKey: 'sk-test',
    model: 'fake-embed',
    dimension: DIM,
    backoffBaseMs: 20,
    ...overrides,
  });
}

async function failure(p: Promise<unknown>): Promise<EmbeddingError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof EmbeddingError) return err;
    throw err;
  }
  throw new Error('expected an EmbeddingError, got a result');
}

function expectSameVector(actual: number[], expected: number[], tolerance = 0): void {
  expect(actual).toHaveLength(expected.length);
  const worst = Math.max(...actual.map((x, i) => Math.abs(x - expected[i])));
  expect(worst).toBeLessThanOrEqual(tolerance);
}

describe('OpenAI-compatible provider against a fake upstream', () => {
  it('batches by count and by estimated tokens, and keeps input order', async () => {
    // 20 tokens each, one of 150 tokens (over the per-request budget: sent alone).
    const texts = Array.from({ length: 11 }, (_, i) => `${String(i).padStart(2, '0')} ${'word '.repeat(15)}`.slice(0, 80));
    texts.splice(5, 0, 'x'.repeat(600));
    const p = provider({ maxBatchSize: 3, maxBatchTokens: 50 });

    const { vectors, tokens, requests } = await p.embedWithUsage(texts);

    expect(server.requests.length).toBe(requests);
    for (const r of server.requests) {
      expect(r.batchSize).toBeLessThanOrEqual(3);
      if (r.batchSize > 1) expect(r.tokens).toBeLessThanOrEqual(50);
    }
    expect(server.requests.map((r) => r.batchSize).reduce((a, b) => a + b, 0)).toBe(texts.length);
    expect(server.requests.some((r) => r.batchSize === 1 && r.tokens === estimateTokens(texts[5]))).toBe(true);
    // The fake answers in reverse order: vectors must still line up with their inputs.
    for (let i = 0; i < texts.length; i++) expectSameVector(vectors[i], await server.vectorOf(texts[i]));
    expect(tokens).toBe(server.requests.reduce((n, r) => n + r.tokens, 0));
    expect(server.requests.every((r) => r.authorization === 'Bearer sk-test' && r.model === 'fake-embed')).toBe(true);
  });

  it('speaks Azure style: api-key header, deployment URL with its api-version query', async () => {
    const p = provider({ baseUrl: `${server.url}/openai/deployments/embed?api-version=2024-02-01`, apiKeyHeader: 'api-key', sendDimensions: true });
    await p.embed(['hello']);
    const [r] = server.requests;
    expect(r.path).toBe('/v1/openai/deployments/embed/embeddings?api-version=2024-02-01');
    expect(r.apiKey).toBe('sk-test');
    expect(r.authorization).toBeUndefined();
    expect(r.dimensions).toBe(DIM);
  });

  it('retries a 500 and then succeeds', async () => {
    server.next({ kind: 'status', status: 500 }, { kind: 'status', status: 503 });
    const { vectors, requests } = await provider({ maxRetries: 3 }).embedWithUsage(['a', 'b']);
    expect(vectors).toHaveLength(2);
    expect(requests).toBe(3);
    expect(server.requests.map((r) => r.status)).toEqual([500, 503, 200]);
  });

  it.each([
    [400, 'input is too long for this model'],
    [401, 'Incorrect API key provided'],
    [403, 'model not allowed for this key'],
    [404, 'model not found'],
  ])('fails permanently on %i without retrying, saying which', async (status, message) => {
    server.next({ kind: 'status', status, message });
    const err = await failure(provider({ maxRetries: 3 }).embed(['a']));
    expect(err.transient).toBe(false);
    expect(err.message).toContain(`HTTP ${status}`);
    expect(err.message).toContain(message);
    expect(server.requests).toHaveLength(1);
  });

  it('honours Retry-After in seconds', async () => {
    server.next({ kind: 'status', status: 429, retryAfter: '1' });
    await provider().embed(['a']);
    expect(server.requests).toHaveLength(2);
    const gap = server.requests[1].at - server.requests[0].at;
    expect(gap).toBeGreaterThanOrEqual(990);
    expect(gap).toBeLessThan(1500);
  });

  it('honours Retry-After as an HTTP date', async () => {
    // HTTP dates have one-second resolution: 2 s ahead means a wait between 1 and 2 s.
    server.next({ kind: 'status', status: 429, retryAfter: new Date(Date.now() + 2000).toUTCString() });
    await provider().embed(['a']);
    const gap = server.requests[1].at - server.requests[0].at;
    expect(gap).toBeGreaterThanOrEqual(950);
    expect(gap).toBeLessThan(2600);
  });

  it('gives up after the configured retries with a transient error carrying Retry-After', async () => {
    server.plan = () => ({ kind: 'status', status: 429, retryAfter: '0.2' });
    const err = await failure(provider({ maxRetries: 2 }).embed(['a']));
    expect(err.transient).toBe(true);
    expect(err.retryAfterMs).toBe(200);
    expect(err.message).toContain('HTTP 429');
    expect(server.requests).toHaveLength(3);
  });

  it('does not sit out a Retry-After longer than it may wait: gives up at once', async () => {
    server.next({ kind: 'status', status: 429, retryAfter: '120' });
    const t0 = Date.now();
    const err = await failure(provider({ maxRetryWaitMs: 5000 }).embed(['a']));
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(err.transient).toBe(true);
    expect(err.retryAfterMs).toBe(120000);
    expect(server.requests).toHaveLength(1);
  });

  it('treats a spent quota (429 insufficient_quota) as permanent', async () => {
    server.next({ kind: 'status', status: 429, code: 'insufficient_quota', message: 'You exceeded your current quota' });
    const err = await failure(provider().embed(['a']));
    expect(err.transient).toBe(false);
    expect(server.requests).toHaveLength(1);
  });

  it('turns a slow answer into a transient timeout', async () => {
    server.next({ kind: 'slow', delayMs: 3000 });
    const t0 = Date.now();
    const err = await failure(provider({ timeoutMs: 300, maxRetries: 0 }).embed(['a']));
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(err.transient).toBe(true);
    expect(err.message).toContain('timed out after 300 ms');
  });

  it('retries after a timeout and succeeds when the upstream recovers', async () => {
    server.next({ kind: 'slow', delayMs: 3000 });
    const vectors = await provider({ timeoutMs: 300, maxRetries: 1 }).embed(['a']);
    expect(vectors).toHaveLength(1);
    expect(server.requests).toHaveLength(2);
  });

  it('treats a refused connection as transient', async () => {
    const err = await failure(provider({ baseUrl: `http://127.0.0.1:${await closedPort()}/v1`, maxRetries: 0 }).embed(['a']));
    expect(err.transient).toBe(true);
  });

  it('refuses vectors of another dimension, permanently and without retrying', async () => {
    server.next({ kind: 'wrong-dimension', dimension: 24 });
    const err = await failure(provider({ maxRetries: 3 }).embed(['a', 'b']));
    expect(err.transient).toBe(false);
    expect(err.message).toContain('dimension mismatch');
    expect(err.message).toContain('returned 24-dimensional vectors but EMBEDDING_DIMENSION is 16');
    expect(server.requests).toHaveLength(1);
  });
});

describe('EMBEDDING_PROVIDER=openai from the configuration', () => {
  it('builds the provider with its shared budget in Redis', async () => {
    const queuePrefix = `test-${randomUUID().slice(0, 8)}`;
    const config = loadConfig({
      ...process.env,
      QUEUE_PREFIX: queuePrefix,
      EMBEDDING_PROVIDER: 'openai',
      OPENAI_BASE_URL: server.url,
      OPENAI_API_KEY: 'sk-config',
      EMBEDDING_MODEL: 'fake-embed',
      EMBEDDING_DIMENSION: String(DIM),
      EMBEDDING_RPM: '600',
    });
    const p = await createEmbeddingProvider(config);
    try {
      expect(p).toBeInstanceOf(OpenAiEmbeddingProvider);
      expect([p.modelId, p.dimension]).toEqual(['openai:fake-embed', DIM]);
      const vectors = await p.embed(['configured']);
      expectSameVector(vectors[0], await server.vectorOf('configured'));
      expect(server.requests[0].authorization).toBe('Bearer sk-config');
      // The request went through the budget: its bucket exists under the deployment's prefix.
      const { default: Redis } = await import('ioredis');
      const redis = new Redis({ host: redisConfig.host, port: redisConfig.port });
      const bucket = await redis.hgetall(`{${queuePrefix}:embedding-rate:fake-embed}:bucket`);
      await redis.quit();
      expect(Number(bucket.r)).toBeLessThan(10);
    } finally {
      await p.close?.();
    }
  });
});

describe('Redis rate budget', () => {
  const prefix = () => `test-budget-${randomUUID()}`;
  const budgets: RedisRateBudget[] = [];
  const connect = (o: Parameters<typeof RedisRateBudget.connect>[1]) => {
    const b = RedisRateBudget.connect({ host: redisConfig.host, port: redisConfig.port }, o);
    budgets.push(b);
    return b;
  };
  afterAll(async () => {
    await Promise.all(budgets.map((b) => b.close()));
  });

  it('spaces requests at the configured rate after the initial burst', async () => {
    const b = connect({ keyPrefix: prefix(), requestsPerMinute: 600, tokensPerMinute: 0 });
    const t0 = Date.now();
    for (let i = 0; i < 30; i++) await b.acquire(1);
    // 10 from the full bucket, then 20 at 10/s.
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(1900);
    expect(elapsed).toBeLessThan(3500);
  });

  it('limits tokens per minute, admitting an oversized request from a full bucket', async () => {
    const b = connect({ keyPrefix: prefix(), requestsPerMinute: 0, tokensPerMinute: 60000 });
    const t0 = Date.now();
    await b.acquire(3000); // capacity is 1000 tokens: admitted, leaves a 2000-token debt
    await b.acquire(500); // waits for the debt to be repaid plus 500 tokens: ~2.5 s
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(2400);
    expect(elapsed).toBeLessThan(3500);
  });

  // 6 tokens/min = 0.1 token/s with a capacity of 1000 tokens: the bucket hardly refills
  // while a test runs, so its levels can be asserted within a token or two.
  const slowTokens = (keyPrefix = prefix()) =>
    connect({ keyPrefix, requestsPerMinute: 0, tokensPerMinute: 6, burstSeconds: 10000 });
  const MS_PER_TOKEN = 10000;

  it('settling a request counted higher than charged takes the excess: the next request waits for it', async () => {
    const key = prefix();
    const b = slowTokens(key);
    await b.acquire(100);
    expect((await b.peek()).tokens).toBeCloseTo(900, -1);
    expect((await b.peek(500)).waitMs).toBe(0);

    await b.settle(100, 900);

    const after = await b.peek(500);
    expect(after.tokens).toBeGreaterThanOrEqual(100);
    expect(after.tokens).toBeLessThan(102);
    // 400 tokens short at 0.1 token/s.
    expect(after.waitMs).toBeGreaterThan(398 * MS_PER_TOKEN);
    expect(after.waitMs).toBeLessThanOrEqual(400 * MS_PER_TOKEN);
    // Another holder of the same budget sees the same debt.
    expect((await slowTokens(key).peek(500)).waitMs).toBeGreaterThan(398 * MS_PER_TOKEN);
  });

  it('settling a request counted lower gives the difference back, at most what was charged, never above capacity', async () => {
    const b = slowTokens();
    await b.acquire(800);
    expect((await b.peek(500)).waitMs).toBeGreaterThan(290 * MS_PER_TOKEN);

    await b.settle(800, 100);
    const refunded = await b.peek(500);
    expect(refunded.tokens).toBeGreaterThanOrEqual(900);
    expect(refunded.tokens).toBeLessThan(902);
    expect(refunded.waitMs).toBe(0);

    // Back to full: a refund beyond capacity is dropped, not banked for a later burst.
    await b.settle(800, 0);
    expect((await b.peek()).tokens).toBe(1000);

    // A refund is bounded by the charge, whatever the count says.
    await b.acquire(500);
    await b.settle(100, -400);
    const bounded = await b.peek();
    expect(bounded.tokens).toBeGreaterThanOrEqual(600);
    expect(bounded.tokens).toBeLessThan(602);
  });

  it('a refund into a bucket that expired (full again) leaves it full; an excess still counts', async () => {
    const key = prefix();
    const b = slowTokens(key);
    // No bucket in Redis: it expired because it refilled completely.
    await b.settle(800, 100);
    expect((await b.peek()).tokens).toBe(1000);
    await b.settle(100, 400);
    const s = await b.peek();
    expect(s.tokens).toBeGreaterThanOrEqual(700);
    expect(s.tokens).toBeLessThan(702);
  });

  it('settling during a pause keeps the pause', async () => {
    const b = slowTokens();
    await b.acquire(100);
    await b.pause(60000);
    await b.settle(100, 300);
    const s = await b.peek();
    expect(s.waitMs).toBeGreaterThan(55000);
    expect(s.tokens).toBeGreaterThanOrEqual(700);
    expect(s.tokens).toBeLessThan(702);
  });

  it('a pause set by one holder stops every other holder of the budget', async () => {
    const key = prefix();
    const a = connect({ keyPrefix: key, requestsPerMinute: 0, tokensPerMinute: 0 });
    const b = connect({ keyPrefix: key, requestsPerMinute: 0, tokensPerMinute: 0 });
    await a.pause(800);
    const t0 = Date.now();
    await b.acquire(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(700);
  });
});

describe('the provider settles the shared token budget with the usage the upstream reports', () => {
  const budgets: RedisRateBudget[] = [];
  // 0.1 token/s, capacity 1000: levels move by the settlement, not by the clock.
  const budget = () => {
    const b = RedisRateBudget.connect(
      { host: redisConfig.host, port: redisConfig.port },
      { keyPrefix: `test-settle-${randomUUID()}`, requestsPerMinute: 0, tokensPerMinute: 6, burstSeconds: 10000 },
    );
    budgets.push(b);
    return b;
  };
  afterAll(async () => {
    await Promise.all(budgets.map((b) => b.close()));
  });
  const textOf = (tokens: number) => 'abcd'.repeat(tokens);
  const MS_PER_TOKEN = 10000;

  it('a request counted above its estimate leaves the budget that much lower, so the next one waits', async () => {
    const b = budget();
    server.next({ kind: 'ok', usage: 900 });
    const r = await provider({ budget: b }).embedWithUsage([textOf(100)]);
    expect(r.tokens).toBe(900);

    const next = await b.peek(500);
    expect(next.tokens).toBeGreaterThanOrEqual(100);
    expect(next.tokens).toBeLessThan(102);
    // Charged only the estimate, the bucket would hold 900 and admit it at once.
    expect(next.waitMs).toBeGreaterThan(398 * MS_PER_TOKEN);
  });

  it('a request counted below its estimate gives the difference back, so the next one goes at once', async () => {
    const b = budget();
    const p = provider({ budget: b });
    server.next({ kind: 'ok', usage: 100 });
    await p.embed([textOf(800)]);

    const next = await b.peek(500);
    expect(next.tokens).toBeGreaterThanOrEqual(900);
    // Charged only the estimate, 200 tokens would be left: 300 short.
    expect(next.waitMs).toBe(0);
    await p.embed([textOf(500)]);
    expect(server.requests).toHaveLength(2);
    const left = (await b.peek()).tokens;
    expect(left).toBeGreaterThanOrEqual(400);
    expect(left).toBeLessThan(402);
  });

  it('keeps the estimate when the upstream reports no usage', async () => {
    const b = budget();
    server.next({ kind: 'ok', usage: null });
    const r = await provider({ budget: b }).embedWithUsage([textOf(300)]);
    expect(r.tokens).toBe(300);
    const s = await b.peek();
    expect(s.tokens).toBeGreaterThanOrEqual(700);
    expect(s.tokens).toBeLessThan(702);
  });
});

describe('two worker processes sharing one budget', () => {
  const RPM = 240; // 4 requests/s
  const PER_SECOND = RPM / 60;
  const BURST = PER_SECOND; // burstSeconds = 1 (the default)
  const DURATION_MS = 8000;

  async function hammer(keyPrefix: string): Promise<LoadSummary[]> {
    const script = path.join(__dirname, 'support', 'embedding-load.script.ts');
    const register = path.join(__dirname, 'support', 'register-ts.js');
    const options: LoadOptions = {
      baseUrl: server.url,
      redisHost: redisConfig.host,
      redisPort: redisConfig.port,
      keyPrefix,
      requestsPerMinute: RPM,
      tokensPerMinute: 0,
      dimension: DIM,
      concurrency: 4,
      durationMs: DURATION_MS,
    };
    const children = [0, 1].map(() =>
      fork(script, [JSON.stringify(options)], { execArgv: ['-r', register], cwd: path.join(__dirname, '..'), timeout: 60000 }),
    );
    const messages = children.map((child) => messagesOf(child));
    // Both load the TypeScript sources first; then they start at the same moment.
    await Promise.all(messages.map((m) => m.next()));
    const startAt = Date.now() + 200;
    for (const child of children) child.send({ startAt });
    return Promise.all(messages.map((m) => m.next() as Promise<LoadSummary>));
  }

  /** The child's IPC messages in order; rejects if it exits first. */
  function messagesOf(child: ChildProcess): { next(): Promise<unknown> } {
    const received: unknown[] = [];
    const waiting: Array<{ resolve(m: unknown): void; reject(e: Error): void }> = [];
    child.on('message', (m) => (waiting.length ? waiting.shift()!.resolve(m) : received.push(m)));
    child.on('exit', (code) => {
      for (const w of waiting.splice(0)) w.reject(new Error(`load process exited with code ${code}`));
    });
    return {
      next: () =>
        received.length
          ? Promise.resolve(received.shift())
          : new Promise((resolve, reject) => {
              if (child.exitCode !== null) reject(new Error(`load process exited with code ${child.exitCode}`));
              else waiting.push({ resolve, reject });
            }),
    };
  }

  /** Most requests seen in any window of `windowMs` starting at a request. */
  function maxInWindow(rs: RecordedRequest[], windowMs: number): number {
    const at = rs.map((r) => r.at).sort((a, b) => a - b);
    let best = 0;
    for (let i = 0, j = 0; i < at.length; i++) {
      while (j < at.length && at[j] < at[i] + windowMs) j++;
      best = Math.max(best, j - i);
    }
    return best;
  }

  function spanSeconds(rs: RecordedRequest[]): number {
    const at = rs.map((r) => r.at);
    return (Math.max(...at) - Math.min(...at)) / 1000;
  }

  it('stays under the configured request rate together', async () => {
    const summaries = await hammer(`test-budget-${randomUUID()}`);
    const rs = server.requests;
    const rate = rs.length / spanSeconds(rs);
    console.log(
      `normal load, 2 processes x 4 loops, budget ${RPM}/min (${PER_SECOND}/s, burst ${BURST}): ` +
        `${rs.length} requests in ${spanSeconds(rs).toFixed(2)} s = ${rate.toFixed(2)}/s ` +
        `(${((rs.length - BURST) / spanSeconds(rs)).toFixed(2)}/s after the initial burst); ` +
        `max in any 1 s window ${maxInWindow(rs, 1000)}, any 5 s window ${maxInWindow(rs, 5000)}; ` +
        `per process ${summaries.map((s) => s.requests).join(' + ')}; ${JSON.stringify(summaries)}`,
    );
    // Both processes got a share, and together they never exceed rate x window + burst.
    expect(summaries.every((s) => s.requests >= 5)).toBe(true);
    expect(summaries.reduce((n, s) => n + s.requests, 0)).toBe(rs.length);
    expect(maxInWindow(rs, 1000)).toBeLessThanOrEqual(PER_SECOND + BURST);
    expect(maxInWindow(rs, 5000)).toBeLessThanOrEqual(5 * PER_SECOND + BURST);
    // Loops still waiting for the budget at the deadline send afterwards: measure over the real span.
    expect(rs.length).toBeLessThanOrEqual(spanSeconds(rs) * PER_SECOND + BURST + 1);
    // ...and the budget is used, not starved (at least 80% of it).
    expect(rs.length).toBeGreaterThanOrEqual(0.8 * spanSeconds(rs) * PER_SECOND);
  });

  it('under a 429 storm every process holds back after each 429', async () => {
    // Every 4th request is refused with Retry-After: 1.
    server.plan = (n) => (n % 4 === 3 ? { kind: 'status', status: 429, retryAfter: '1' } : { kind: 'ok' });
    const summaries = await hammer(`test-budget-${randomUUID()}`);
    const rs = server.requests;
    const refused = rs.filter((r) => r.status === 429);
    const ok = rs.filter((r) => r.status === 200);
    const span = spanSeconds(rs);
    console.log(
      `429 storm (every 4th request, Retry-After: 1), 2 processes, budget ${PER_SECOND}/s: ` +
        `${rs.length} upstream requests in ${span.toFixed(2)} s = ${(rs.length / span).toFixed(2)}/s ` +
        `(${ok.length} ok = ${(ok.length / span).toFixed(2)}/s, ${refused.length} x 429); ` +
        `max in any 1 s window ${maxInWindow(rs, 1000)}; per process ${summaries.map((s) => s.requests).join(' + ')}`,
    );
    expect(refused.length).toBeGreaterThan(0);
    expect(maxInWindow(rs, 1000)).toBeLessThanOrEqual(PER_SECOND + BURST);
    // After a 429, nobody (neither process) sends until Retry-After has passed. Requests
    // admitted before the pause reached Redis may still land just after the 429 (on two
    // busy cores, up to ~100 ms later); without the shared pause the other process would
    // keep sending every 250-500 ms.
    for (const r of refused) {
      const early = rs.filter((x) => x.at > r.at + 200 && x.at < r.at + 950).map((x) => x.at - r.at);
      expect(early).toEqual([]);
    }
    expect(summaries.every((s) => s.succeeded > 0)).toBe(true);
  });
});

describe('cached embedder over Postgres', () => {
  let db: DataSource;
  let cache: EmbeddingCache;

  beforeAll(async () => {
    db = createDataSource(loadConfig());
    await db.initialize();
    cache = new EmbeddingCache(db);
  });
  afterAll(async () => {
    await db.destroy();
  });

  const paragraphs = (n: number) =>
    Array.from({ length: n }, (_, i) => `Paragraph ${i}: ${['alpha', 'beta', 'gamma', 'delta'][i % 4]} notes on topic ${i * 7}.`);

  it('calls the provider 0 times for texts it has seen, once for the one edited text', async () => {
    const model = `fake-embed-${randomUUID()}`;
    const embedder = new CachedEmbedder(provider({ model }), cache, { batchSize: 8 });
    const texts = paragraphs(20);

    const first = await embedder.embed(texts);
    expect(first).toMatchObject({ cacheHits: 0, providerTexts: 20 });
    expect(first.tokens).toBeGreaterThan(0);
    expect(server.requests.length).toBe(3);

    server.reset();
    const second = await embedder.embed(texts);
    expect(server.requests).toHaveLength(0);
    expect(second).toMatchObject({ cacheHits: 20, providerTexts: 0, tokens: 0 });
    // Stored as float4 by pgvector: equal to the first answer within float32 precision.
    for (let i = 0; i < texts.length; i++) expectSameVector(second.vectors[i], first.vectors[i], 1e-6);

    const edited = [...texts];
    edited[7] = 'Paragraph 7 was rewritten completely.';
    const third = await embedder.embed(edited);
    expect(third).toMatchObject({ cacheHits: 19, providerTexts: 1 });
    expect(server.requests.map((r) => r.batchSize)).toEqual([1]);
    expectSameVector(third.vectors[7], await server.vectorOf(edited[7]), 1e-9);
    expect(third.tokens).toBe(estimateTokens(edited[7]));
  });

  it('embeds a text repeated within a call once, and matches texts equal after normalisation', async () => {
    const model = `fake-embed-${randomUUID()}`;
    const embedder = new CachedEmbedder(provider({ model }), cache);
    const r = await embedder.embed(['same text', 'other', 'same text']);
    expect(r).toMatchObject({ cacheHits: 0, providerTexts: 2 });
    expect(r.vectors[2]).toEqual(r.vectors[0]);

    server.reset();
    const again = await embedder.embed(['  same text\r\n', 'other']);
    expect(again).toMatchObject({ cacheHits: 2, providerTexts: 0 });
    expect(server.requests).toHaveLength(0);
  });

  it('keys entries by model and dimension', async () => {
    const model = `fake-embed-${randomUUID()}`;
    await new CachedEmbedder(provider({ model }), cache).embed(['shared text']);
    const otherModel = await new CachedEmbedder(provider({ model: `${model}-v2` }), cache).embed(['shared text']);
    expect(otherModel.providerTexts).toBe(1);

    // Same model name, another dimension: a different key space.
    const hashed = await cache.lookup(`openai:${model}`, DIM + 1, ['shared text']);
    expect(hashed).toEqual([undefined]);
    const hit = await cache.lookup(`openai:${model}`, DIM, ['shared text']);
    expect(hit[0]).toHaveLength(DIM);
  });

  it('with the cache disabled, sends everything to the provider', async () => {
    const model = `fake-embed-${randomUUID()}`;
    const p = provider({ model });
    await new CachedEmbedder(p, cache).embed(['one', 'two']);
    server.reset();
    const r = await new CachedEmbedder(p, cache, { enabled: false }).embed(['one', 'two']);
    expect(r).toMatchObject({ cacheHits: 0, providerTexts: 2 });
    expect(server.requests).toHaveLength(1);
  });

  it('estimates tokens for providers that report no usage', async () => {
    const hash = new HashEmbeddingProvider(DIM);
    const r = await new CachedEmbedder(hash, cache, { enabled: false }).embed(['abcdefgh', 'abcd']);
    expect(r).toMatchObject({ tokens: 3, tokensEstimated: true, providerTexts: 2 });
  });

  it('stores one row per distinct text in one statement, whatever was cached before', async () => {
    const model = `fake-embed-${randomUUID()}`;
    const v = await server.vectorOf('x');
    await cache.store(model, DIM, ['x', 'x', 'y'], [v, v, v]);
    await cache.store(model, DIM, ['x'], [v]); // already present: kept, no error
    const rows = (await db.query('SELECT count(*)::int AS n FROM embedding_cache WHERE model = $1', [model])) as Array<{ n: number }>;
    expect(rows[0].n).toBe(2);
  });
});
