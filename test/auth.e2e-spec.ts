import { getDataSourceToken } from '@nestjs/typeorm';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { OPEN_MODE_WARNING } from '../src/auth/auth-mode';
import { ADMIN_KEY, call, createKey, migratedDatabase } from './support/auth-fixtures';
import { OwnDatabase } from './support/own-database';
import { TestApp, startApp } from './support/test-app';
import { waitUntil } from './support/wait';

/** Budgets are per calendar minute: a test that counts requests must not straddle two. */
async function awayFromMinuteEdge(): Promise<void> {
  const left = 60000 - (Date.now() % 60000);
  if (left < 10000) await new Promise((r) => setTimeout(r, left + 100));
}

describe('authentication: open mode, the first key, AUTH_REQUIRED', () => {
  let database: OwnDatabase;
  beforeEach(async () => {
    database = await migratedDatabase('ingest_test_auth_modes');
  });

  it('runs open with no admin key and no stored key, says so in readiness, and closes when the first key is made', async () => {
    const t = await startApp({ DATABASE_URL: database.url, ADMIN_API_KEY: '' }, { api: true, worker: false });
    try {
      expect((await call(t.url, 'POST', '/v1/documents', { body: { content: 'open mode', namespace: 'open' } })).status).toBe(202);
      const ready = await call(t.url, 'GET', '/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body.details.auth).toEqual({ status: 'up', mode: 'open', warning: OPEN_MODE_WARNING });

      const first = await createKey(t.url, undefined, { name: 'first admin', namespaces: ['*'], scopes: ['admin'] });
      expect(first.key).toMatch(/^ik_live_[A-Za-z0-9_-]{43}$/);
      // At once on the replica that made it: no window where the service is still open.
      expect((await call(t.url, 'GET', '/v1/documents')).status).toBe(401);
      expect((await call(t.url, 'GET', '/v1/documents', { key: first.key })).status).toBe(200);
      expect((await call(t.url, 'GET', '/health/ready')).body.details.auth).toEqual({ status: 'up', mode: 'api-keys' });
      // Revoking every key does not reopen the service.
      await call(t.url, 'DELETE', `/v1/keys/${first.id}`, { key: first.key });
      expect((await call(t.url, 'GET', '/v1/documents')).status).toBe(401);
    } finally {
      await t.close();
    }
  });

  it('AUTH_REQUIRED refuses to start without an admin credential, and starts with ADMIN_API_KEY', async () => {
    await expect(startApp({ DATABASE_URL: database.url, ADMIN_API_KEY: '', AUTH_REQUIRED: 'true' }, { api: true, worker: false })).rejects.toThrow(
      /AUTH_REQUIRED is true but there is no admin credential: set ADMIN_API_KEY/,
    );
    const t = await startApp({ DATABASE_URL: database.url, ADMIN_API_KEY: ADMIN_KEY, AUTH_REQUIRED: 'true' }, { api: true, worker: false });
    try {
      expect((await call(t.url, 'GET', '/v1/documents')).status).toBe(401);
      expect((await call(t.url, 'GET', '/v1/documents', { key: ADMIN_KEY })).status).toBe(200);
      expect((await call(t.url, 'GET', '/v1/documents', { headers: { 'x-api-key': ADMIN_KEY } })).status).toBe(200);
      expect((await call(t.url, 'GET', '/health/ready')).body.details.auth.mode).toBe('api-keys');
    } finally {
      await t.close();
    }
  });

  it('AUTH_REQUIRED also accepts a stored admin key in place of ADMIN_API_KEY', async () => {
    const bootstrap = await startApp({ DATABASE_URL: database.url, ADMIN_API_KEY: ADMIN_KEY }, { api: true, worker: false });
    const admin = await createKey(bootstrap.url, ADMIN_KEY, { namespaces: ['*'], scopes: ['admin'] });
    await bootstrap.close();
    const t = await startApp({ DATABASE_URL: database.url, ADMIN_API_KEY: '', AUTH_REQUIRED: 'true' }, { api: true, worker: false });
    try {
      expect((await call(t.url, 'GET', '/v1/keys', { key: admin.key })).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});

describe('API keys, isolation, idempotency, rate limits, headers', () => {
  let database: OwnDatabase;
  let a: TestApp;
  let b: TestApp;
  let db: DataSource;

  beforeAll(async () => {
    database = await migratedDatabase('ingest_test_auth_keys');
    const env = { DATABASE_URL: database.url, ADMIN_API_KEY: ADMIN_KEY };
    // Two replicas sharing Postgres, Redis and the queue prefix, as in a deployment.
    a = await startApp(env, { api: true, worker: false });
    b = await startApp({ ...env, QUEUE_PREFIX: a.config.queue.prefix }, { api: true, worker: false });
    db = a.app.get<DataSource>(getDataSourceToken());
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  async function post(key: string, namespace: string, content: string, headers: Record<string, string> = {}) {
    return call(a.url, 'POST', '/v1/documents', { key, body: { content, namespace }, headers });
  }

  it('shows the secret once: the list never holds it, and the table keeps only its hash', async () => {
    const created = await createKey(a.url, ADMIN_KEY, { name: 'reader', namespaces: ['ks'], scopes: ['documents:read'] });
    expect(created.prefix).toBe(created.key.slice(0, 12));
    expect(created.prefix).toMatch(/^ik_live_.{4}$/);
    const list = await call(a.url, 'GET', '/v1/keys', { key: ADMIN_KEY });
    expect(list.text).not.toContain(created.key);
    expect(list.body.items.find((k: { id: string }) => k.id === created.id)).toMatchObject({
      name: 'reader',
      prefix: created.prefix,
      namespaces: ['ks'],
      scopes: ['documents:read'],
      revokedAt: null,
    });
    const rows: Array<Record<string, unknown>> = await db.query(`SELECT * FROM api_keys WHERE id = $1`, [created.id]);
    expect(JSON.stringify(rows)).not.toContain(created.key.slice(12));
  });

  it.each([
    ['an unknown scope', { name: 'x', namespaces: ['a'], scopes: ['root'] }, /each of scopes must be one of/],
    ['"*" beside other namespaces', { name: 'x', namespaces: ['*', 'a'], scopes: ['search'] }, /"\*" already means every namespace/],
    ['a bad namespace', { name: 'x', namespaces: ['no spaces'], scopes: ['search'] }, /each of namespaces must be a namespace name or "\*"/],
    ['no scopes', { name: 'x', namespaces: ['a'], scopes: [] }, /scopes must contain at least 1 elements/],
    ['an expiry in the past', { name: 'x', namespaces: ['a'], scopes: ['search'], expiresAt: '2020-01-01T00:00:00Z' }, /expiresAt must be in the future/],
    ['a negative rate limit', { name: 'x', namespaces: ['a'], scopes: ['search'], rateLimit: { writePerMin: -1 } }, /writePerMin must not be less than 0/],
  ])('refuses a key with %s (400)', async (_what, body, message) => {
    const res = await call(a.url, 'POST', '/v1/keys', { key: ADMIN_KEY, body });
    expect(res.status).toBe(400);
    expect([res.body.message].flat().join('; ')).toMatch(message);
  });

  it('a revocation on one replica takes effect on the other within 2 s', async () => {
    const k = await createKey(a.url, ADMIN_KEY, { namespaces: ['rv'], scopes: ['documents:read'] });
    // The other replica has it cached as valid.
    expect((await call(b.url, 'GET', '/v1/documents?namespace=rv', { key: k.key })).status).toBe(200);
    const revokedAt = Date.now();
    expect((await call(a.url, 'DELETE', `/v1/keys/${k.id}`, { key: ADMIN_KEY })).body.revokedAt).not.toBeNull();
    expect((await call(a.url, 'GET', '/v1/documents?namespace=rv', { key: k.key })).status).toBe(401);
    await waitUntil('the revocation on the other replica', async () => (await call(b.url, 'GET', '/v1/documents?namespace=rv', { key: k.key })).status, (s) => s === 401, {
      timeoutMs: 5000,
      intervalMs: 20,
    });
    expect(Date.now() - revokedAt).toBeLessThan(2000);
  });

  it('a key limited to namespaces sees only them in lists, searches and dead letters', async () => {
    const mine = await createKey(a.url, ADMIN_KEY, { namespaces: ['iso-a', 'iso-b'], scopes: ['documents:read', 'documents:write', 'search'] });
    const ids: Record<string, string> = {};
    for (const ns of ['iso-a', 'iso-b', 'iso-c']) {
      const res = await post(ADMIN_KEY, ns, `isolation text about ${ns} gardening`);
      ids[ns] = res.body.id;
      await db.query(`UPDATE documents SET status = 'failed', last_error_class = 'permanent', last_error = 'x' WHERE id = $1`, [res.body.id]);
    }
    const list = await call(a.url, 'GET', '/v1/documents?limit=100', { key: mine.key });
    const seen = list.body.items.map((d: { namespace: string }) => d.namespace);
    expect(new Set(seen)).toEqual(new Set(['iso-a', 'iso-b']));

    const dead = await call(a.url, 'GET', '/v1/dead-letters?limit=100', { key: mine.key });
    expect(new Set(dead.body.items.map((d: { namespace: string }) => d.namespace))).toEqual(new Set(['iso-a', 'iso-b']));
    expect((await call(a.url, 'GET', `/v1/documents/${ids['iso-c']}`, { key: mine.key })).body).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: `document ${ids['iso-c']} not found`,
    });
    expect((await call(a.url, 'POST', '/v1/search', { key: mine.key, body: { query: 'gardening', namespace: 'iso-c' } })).status).toBe(404);

    // Re-queueing "all" dead letters stays within the key's namespaces.
    const retried = await call(a.url, 'POST', '/v1/dead-letters/retry', { key: mine.key, body: {} });
    expect(retried.status).toBe(202);
    expect(new Set(retried.body.ids)).toEqual(new Set([ids['iso-a'], ids['iso-b']]));
    const [c] = await db.query(`SELECT status FROM documents WHERE id = $1`, [ids['iso-c']]);
    expect(c.status).toBe('failed');
  });

  it('a batch item or an uploaded file for a namespace the key does not hold is refused, the rest accepted', async () => {
    const mine = await createKey(a.url, ADMIN_KEY, { namespaces: ['bat-a'], scopes: ['documents:write'] });
    const batch = await call(a.url, 'POST', '/v1/documents/batch', {
      key: mine.key,
      body: { documents: [{ content: 'mine to write', namespace: 'bat-a' }, { content: 'not mine', namespace: 'bat-b' }] },
    });
    expect(batch.status).toBe(200);
    expect(batch.body.results[0]).toMatchObject({ index: 0, status: 'accepted' });
    expect(batch.body.results[1]).toEqual({ index: 1, status: 'rejected', error: 'this API key does not hold namespace "bat-b"' });
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM documents WHERE namespace = 'bat-b'`);
    expect(n).toBe(0);

    const form = (ns: string) => {
      const f = new FormData();
      f.append('file', new Blob(['an uploaded note']), 'note.txt');
      f.append('namespace', ns);
      return f;
    };
    const upload = (ns: string) => fetch(`${a.url}/v1/documents`, { method: 'POST', headers: { authorization: `Bearer ${mine.key}` }, body: form(ns) });
    const refused = await upload('bat-b');
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { message: string }).message).toBe('this API key does not hold namespace "bat-b"');
    expect((await upload('bat-a')).status).toBe(202);
  });

  it('the queue dashboard (plain Express, outside the guard) lets only admin keys in', async () => {
    const reader = await createKey(a.url, ADMIN_KEY, { namespaces: ['*'], scopes: ['documents:read', 'documents:write', 'search'] });
    expect((await call(a.url, 'GET', '/admin/queues')).status).toBe(401);
    expect((await call(a.url, 'GET', '/admin/queues/api/queues', { key: `${ADMIN_KEY}x` })).status).toBe(401);
    expect((await call(a.url, 'GET', '/admin/queues/api/queues', { key: reader.key })).status).toBe(403);
    const admin = await call(a.url, 'GET', '/admin/queues/api/queues', { key: ADMIN_KEY });
    expect(admin.status).toBe(200);
    expect(admin.text).toContain('ingest-dlq');
  });

  it('dead letters of every namespace at once need admin, even for a key holding "*"', async () => {
    const wide = await createKey(a.url, ADMIN_KEY, { namespaces: ['*'], scopes: ['documents:read', 'documents:write'] });
    expect((await call(a.url, 'GET', '/v1/dead-letters', { key: wide.key })).status).toBe(403);
    expect((await call(a.url, 'POST', '/v1/dead-letters/retry', { key: wide.key, body: {} })).status).toBe(403);
    expect((await call(a.url, 'GET', '/v1/dead-letters?namespace=iso-c', { key: wide.key })).status).toBe(200);
    expect((await call(a.url, 'GET', '/v1/dead-letters', { key: ADMIN_KEY })).status).toBe(200);
  });

  it('scopes Idempotency-Key per key and namespace: another caller with the same key gets its own answer', async () => {
    const one = await createKey(a.url, ADMIN_KEY, { namespaces: ['idem-a', 'idem-b'], scopes: ['documents:write'] });
    const two = await createKey(a.url, ADMIN_KEY, { namespaces: ['idem-a'], scopes: ['documents:write'] });
    const h = { 'idempotency-key': 'shared-guessable-key' };
    const first = await post(one.key, 'idem-a', 'first caller', h);
    expect(first.status).toBe(202);
    expect((await post(one.key, 'idem-a', 'first caller', h)).body.id).toBe(first.body.id);
    const other = await post(two.key, 'idem-a', 'second caller', h);
    expect(other.status).toBe(202);
    expect(other.body.id).not.toBe(first.body.id);
    const otherNamespace = await post(one.key, 'idem-b', 'first caller', h);
    expect(otherNamespace.status).toBe(202);
    expect(otherNamespace.body.id).not.toBe(first.body.id);
  });

  it('limits each key per minute with separate write and search budgets, shared by replicas, 429 with Retry-After', async () => {
    const k = await createKey(a.url, ADMIN_KEY, {
      namespaces: ['rl'],
      scopes: ['documents:write', 'search'],
      rateLimit: { writePerMin: 3, searchPerMin: 2 },
    });
    await awayFromMinuteEdge();
    const statuses: number[] = [];
    // Alternating replicas: the budget is one, in Redis.
    for (let i = 0; i < 4; i++) statuses.push((await call(i % 2 ? b.url : a.url, 'POST', '/v1/documents', { key: k.key, body: { content: `rl ${i}`, namespace: 'rl' } })).status);
    expect(statuses).toEqual([202, 202, 202, 429]);
    const limited = await post(k.key, 'rl', 'one more');
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.body.message).toMatch(/write rate limit of 3 requests per minute reached/);
    // The search budget is its own.
    const search = () => call(b.url, 'POST', '/v1/search', { key: k.key, body: { query: 'x', namespace: 'rl' } });
    expect([(await search()).status, (await search()).status, (await search()).status]).toEqual([200, 200, 429]);
    // Another key is not affected.
    const other = await createKey(a.url, ADMIN_KEY, { namespaces: ['rl'], scopes: ['documents:write'] });
    expect((await post(other.key, 'rl', 'other key')).status).toBe(202);
    // Counters live under the queue prefix.
    const redis = new Redis(a.config.redis.port, a.config.redis.host);
    try {
      const keys = await redis.keys(`${a.config.queue.prefix}:ratelimit:*:${k.id}:*`);
      expect(keys.length).toBe(2);
    } finally {
      redis.disconnect();
    }
  });

  it('sends security headers on every answer, no X-Powered-By, and no CORS unless configured', async () => {
    for (const res of [await call(a.url, 'GET', '/health/live'), await call(a.url, 'GET', '/v1/documents'), await call(a.url, 'GET', '/nowhere')]) {
      expect(res.headers.get('x-powered-by')).toBeNull();
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    }
    const preflight = await fetch(`${a.url}/v1/documents`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('allows the configured CORS origins only', async () => {
    const t = await startApp({ DATABASE_URL: database.url, ADMIN_API_KEY: ADMIN_KEY, CORS_ORIGINS: 'https://app.example' }, { api: true, worker: false });
    try {
      const ask = (origin: string) =>
        fetch(`${t.url}/v1/documents`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
      expect((await ask('https://app.example')).headers.get('access-control-allow-origin')).toBe('https://app.example');
      expect((await ask('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await t.close();
    }
  });
});

describe('rate limits in open mode', () => {
  it('limit by client address', async () => {
    const database = await migratedDatabase('ingest_test_auth_open_limits');
    const t = await startApp({ DATABASE_URL: database.url, ADMIN_API_KEY: '', RATE_LIMIT_WRITE_PER_MIN: '2' }, { api: true, worker: false });
    try {
      const statuses = [];
      await awayFromMinuteEdge();
      for (let i = 0; i < 3; i++) statuses.push((await call(t.url, 'POST', '/v1/documents', { body: { content: `open ${i}`, namespace: 'o' } })).status);
      expect(statuses).toEqual([202, 202, 429]);
      const redis = new Redis(t.config.redis.port, t.config.redis.host);
      try {
        expect(await redis.keys(`${t.config.queue.prefix}:ratelimit:write:addr:*`)).toHaveLength(1);
      } finally {
        redis.disconnect();
      }
    } finally {
      await t.close();
    }
  });
});
