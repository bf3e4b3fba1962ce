import { ConsoleLogger } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { call, createKey, migratedDatabase } from './support/auth-fixtures';
import { FakeOpenAiServer } from './support/fake-openai.server';
import { MatrixContext, PUBLIC_ROUTES, ROUTE_CASES } from './support/route-matrix';
import { TestApp, startApp } from './support/test-app';
import { waitUntil } from './support/wait';

/**
 * Canary secrets: the service starts with recognisable values for every secret it holds, every route and
 * failure path is driven, and everything it wrote (logs, answers, the database, Redis) is scanned for them.
 */
const CANARIES = {
  adminApiKey: 'CANARY-ADMIN-7f3a9c1e5b2d4f6a8c0e1b3d5f7a9c1e',
  providerKey: 'sk-CANARY-PROVIDER-4e6a8c0e2b4d6f8a0c2e4b6d8f0a',
  databasePassword: 'CANARYDBPASS9d8c7b6a5f4e',
  webhookSecret: 'whsec_CANARYWEBHOOK3c5e7a9b1d2f4a6c0123456',
};
const DIM = 16;

describe('secrets never leave the service', () => {
  const written: string[] = [];
  const restore: Array<() => void> = [];
  let server: FakeOpenAiServer;
  let t: TestApp;
  let createdSecret = '';

  /** Everything the process prints goes to `written` (and nowhere else, to keep the run quiet). */
  function captureOutput(): void {
    for (const stream of [process.stdout, process.stderr]) {
      const original = stream.write.bind(stream);
      stream.write = ((chunk: string | Uint8Array) => {
        written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
        return true;
      }) as typeof stream.write;
      restore.push(() => (stream.write = original));
    }
  }

  async function record(method: string, path: string, opts: Parameters<typeof call>[3] = {}) {
    const res = await call(t.url, method, path, opts);
    written.push(`${res.status} ${JSON.stringify([...res.headers.entries()])} ${res.text}`);
    return res;
  }

  beforeAll(async () => {
    server = new FakeOpenAiServer(DIM);
    await server.start();
    // The upstream echoes the credential it refuses, as some servers do.
    server.plan = (_n, req) =>
      req.inputs.some((i) => i.includes('transient'))
        ? { kind: 'status', status: 503, message: `overloaded, key ${req.authorization}` }
        : { kind: 'status', status: 401, message: `Incorrect API key provided: ${req.authorization}` };
    const database = await migratedDatabase('ingest_test_auth_secrets');
    const url = new URL(database.url);
    url.password = CANARIES.databasePassword;
    captureOutput();
    t = await startApp({
      DATABASE_URL: url.toString(),
      ADMIN_API_KEY: CANARIES.adminApiKey,
      WEBHOOK_SECRET: CANARIES.webhookSecret,
      EMBEDDING_PROVIDER: 'openai',
      OPENAI_BASE_URL: server.url,
      OPENAI_API_KEY: CANARIES.providerKey,
      EMBEDDING_MODEL: 'canary-embed',
      EMBEDDING_DIMENSION: String(DIM),
      QUEUE_ATTEMPTS: '2',
      QUEUE_BACKOFF_MS: '10',
    });
    // Every level, so a secret in a debug line is caught too.
    t.app.useLogger(new ConsoleLogger('canary', { logLevels: ['log', 'error', 'warn', 'debug', 'verbose', 'fatal'] }));
  });
  afterAll(async () => {
    await t?.close();
    await server?.stop();
    for (const r of restore) r();
  });

  it('drives every route and failure path, then finds no secret in logs, answers, the database or Redis', async () => {
    const admin = CANARIES.adminApiKey;
    const created = await createKey(t.url, admin, { name: 'canary', namespaces: ['canary'], scopes: ['documents:write', 'documents:read', 'search'] });
    createdSecret = created.key;

    // Failure paths: a refused credential (permanent) and an overloaded upstream (retried, then failed for good).
    const refused = await record('POST', '/v1/documents', { key: created.key, body: { content: 'refused by upstream', namespace: 'canary' } });
    const overloaded = await record('POST', '/v1/documents', { key: created.key, body: { content: 'transient trouble', namespace: 'canary' } });
    for (const id of [refused.body.id, overloaded.body.id]) {
      const done = await waitUntil(
        `document ${id} failed`,
        async () => (await call(t.url, 'GET', `/v1/documents/${id}`, { key: admin })).body,
        (d) => d.status === 'failed',
      );
      expect(done.lastError).toContain('[redacted]');
    }
    await record('GET', `/v1/documents/${refused.body.id}`, { key: created.key });
    await record('GET', `/v1/documents/${overloaded.body.id}`, { key: admin });
    await record('GET', '/v1/dead-letters?namespace=canary', { key: created.key });
    await record('POST', '/v1/search', { key: created.key, body: { query: 'anything', namespace: 'canary' } });

    // Bad credentials and bad input, including secrets sent where they do not belong.
    await record('GET', '/v1/documents', { key: `${admin}x` });
    await record('GET', '/v1/documents', { key: CANARIES.providerKey });
    await record('GET', '/v1/documents', { headers: { 'x-api-key': CANARIES.webhookSecret } });
    await record('POST', '/v1/documents', { key: admin, body: { content: 42, namespace: CANARIES.providerKey } });
    await record('POST', '/v1/documents', { key: admin, body: { content: 'x', colour: 'red' } });
    await record('GET', `/v1/documents/${CANARIES.adminApiKey}`, { key: admin });
    await record('POST', '/v1/keys', { key: admin, body: { name: 'bad', namespaces: ['a'], scopes: [CANARIES.webhookSecret] } });

    // Every route, as the route matrix knows them.
    const ctx: MatrixContext = {
      document: async (ns) => (await record('POST', '/v1/documents', { key: admin, body: { content: `canary ${Math.random()}`, namespace: ns } })).body.id,
      deadLetter: async () => refused.body.id,
      externalDocument: async (ns) => {
        const externalId = `canary-${Math.random()}`;
        await record('POST', '/v1/documents', { key: admin, body: { content: `canary ${externalId}`, namespace: ns, externalId } });
        return externalId;
      },
      failedDelivery: async (ns) => {
        const documentId = (await record('POST', '/v1/documents', { key: admin, body: { content: `canary ${Math.random()}`, namespace: ns } })).body.id;
        const rows: Array<{ id: string }> = await t.app.get<DataSource>(getDataSourceToken()).query(
          `INSERT INTO webhook_deliveries (document_id, namespace, version, event_type, target, url, body, status, attempts)
           VALUES ($1, $2, 1, 'document.ready', 'namespace', 'http://127.0.0.1:9/canary-hook', '{}', 'failed', 1) RETURNING id`,
          [documentId, ns],
        );
        return rows[0].id;
      },
      namespaceWebhook: async (ns) => void (await record('PUT', `/v1/namespaces/${ns}/webhook`, { key: admin, body: { url: 'http://127.0.0.1:9/canary-hook' } })),
      apiKey: async () => (await createKey(t.url, admin, { namespaces: ['canary'], scopes: ['search'] })).id,
      reindexRunning: async () => void (await record('POST', '/v1/reindex', { key: admin })),
      reindexStopped: async () => void (await record('DELETE', '/v1/reindex', { key: admin })),
    };
    for (const [route, c] of Object.entries(ROUTE_CASES)) {
      const req = await c.request(ctx, 'canary');
      const res = await record(route.split(' ')[0], req.path, { key: admin, body: req.body, stream: c.stream });
      if (route === 'POST /v1/keys') written.pop(); // shows its own new secret once, by design; none of the canaries
      if (route === 'POST /v1/keys') expect(res.text).not.toMatch(/CANARY/);
      await c.after?.(ctx);
    }
    for (const route of [...PUBLIC_ROUTES, 'GET /metrics']) {
      await record(route.split(' ')[0], route.split(' ')[1]);
      await record(route.split(' ')[0], route.split(' ')[1], { key: admin });
    }

    // What it stored.
    const db = t.app.get<DataSource>(getDataSourceToken());
    const tables: Array<{ tablename: string }> = await db.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`);
    for (const { tablename } of tables) {
      const rows: Array<{ row: string }> = await db.query(`SELECT row_to_json(t)::text AS row FROM "${tablename}" t`);
      written.push(...rows.map((r) => `${tablename}: ${r.row}`));
    }
    const redis = new Redis(t.config.redis.port, t.config.redis.host);
    try {
      for (const key of await redis.keys(`${t.config.queue.prefix}*`)) {
        const type = await redis.type(key);
        if (type === 'string') written.push(String(await redis.get(key)));
        if (type === 'hash') written.push(JSON.stringify(await redis.hgetall(key)));
        if (type === 'list') written.push(JSON.stringify(await redis.lrange(key, 0, -1)));
        if (type === 'set') written.push(JSON.stringify(await redis.smembers(key)));
        if (type === 'zset') written.push(JSON.stringify(await redis.zrange(key, 0, -1)));
        if (type === 'stream') written.push(JSON.stringify(await redis.xrange(key, '-', '+')));
      }
    } finally {
      redis.disconnect();
    }

    const everything = written.join('\n');
    expect(everything.length).toBeGreaterThan(10000);
    // Proof the scan sees what the service wrote: the upstream's refusal text was recorded (with the key redacted).
    expect(everything).toContain('Incorrect API key provided: Bearer [redacted]');
    const found = Object.entries({ ...CANARIES, createdApiKey: createdSecret })
      .filter(([, secret]) => everything.includes(secret))
      .map(([name]) => name);
    expect(found).toEqual([]);
  });
});
