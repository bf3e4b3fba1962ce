import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SCOPES, Scope } from '../src/auth/scopes';
import { ADMIN_KEY, call, createKey, migratedDatabase } from './support/auth-fixtures';
import { MatrixContext, PUBLIC_ROUTES, ROUTE_CASES, RouteCase } from './support/route-matrix';
import { TestApp, startApp } from './support/test-app';

/**
 * Every route against every kind of caller, generated from test/support/route-matrix.ts. The first test lists
 * the routes the running service registers: one without an entry there fails the suite.
 */

const NS = 'matrix-a';
const OTHER_NS = 'matrix-b';

interface ExpressLayer {
  route?: { path: string; methods: Record<string, boolean> };
}

function registeredRoutes(t: TestApp): string[] {
  const express = t.app.getHttpAdapter().getInstance() as { router: { stack: ExpressLayer[] } };
  const routes = new Set<string>();
  for (const layer of express.router.stack) {
    // Middleware bound to every path (`/{*path}`, all methods) is not a route.
    if (!layer.route || String(layer.route.path).includes('{*')) continue;
    // The documentation UI's assets are public files, not API routes (/docs and the document are listed).
    if (/^\/docs\/./.test(layer.route.path) && layer.route.path !== '/docs/openapi.json') continue;
    for (const [method, on] of Object.entries(layer.route.methods)) if (on && method !== '_all') routes.add(`${method.toUpperCase()} ${layer.route.path}`);
  }
  return [...routes].sort();
}

describe('route matrix: every route refuses what it must and serves the right key', () => {
  let t: TestApp;
  let db: DataSource;
  const keyCache = new Map<string, string>();
  let revokedKey: string;
  let expiredKey: string;

  beforeAll(async () => {
    const database = await migratedDatabase('ingest_test_auth_matrix');
    // No worker: documents stay queued, so dead letters are made by hand and nothing races the assertions.
    t = await startApp(
      {
        DATABASE_URL: database.url,
        ADMIN_API_KEY: ADMIN_KEY,
        RATE_LIMIT_WRITE_PER_MIN: '0',
        WEBHOOK_SECRET: `whsec_${Buffer.from('matrix webhook secret 32 bytes!!').toString('base64')}`,
        WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      },
      { api: true, worker: false },
    );
    db = t.app.get<DataSource>(getDataSourceToken());
    const revoked = await createKey(t.url, ADMIN_KEY, { namespaces: ['*'], scopes: [...SCOPES] });
    expect((await call(t.url, 'DELETE', `/v1/keys/${revoked.id}`, { key: ADMIN_KEY })).status).toBe(200);
    revokedKey = revoked.key;
    const expired = await createKey(t.url, ADMIN_KEY, { namespaces: ['*'], scopes: [...SCOPES] });
    await db.query(`UPDATE api_keys SET expires_at = now() - interval '1 minute' WHERE id = $1`, [expired.id]);
    expiredKey = expired.key;
  });
  afterAll(async () => {
    await t?.close();
  });

  /** A key with these scopes and namespaces, made once. */
  async function keyFor(scopes: Scope[], namespaces: string[]): Promise<string> {
    const id = `${scopes.join(',')}|${namespaces.join(',')}`;
    let key = keyCache.get(id);
    if (key === undefined) {
      key = (await createKey(t.url, ADMIN_KEY, { namespaces, scopes })).key;
      keyCache.set(id, key);
    }
    return key;
  }

  const ctx: MatrixContext = {
    document: async (ns) => {
      const res = await call(t.url, 'POST', '/v1/documents', { key: ADMIN_KEY, body: { content: `fixture ${Math.random()}`, namespace: ns } });
      if (res.status !== 202) throw new Error(`fixture document: ${res.status} ${res.text}`);
      return res.body.id as string;
    },
    deadLetter: async (ns) => {
      const id = await ctx.document(ns);
      await db.query(`UPDATE documents SET status = 'failed', attempts = 1, last_error = 'fixture', last_error_class = 'permanent' WHERE id = $1`, [id]);
      return id;
    },
    externalDocument: async (ns) => {
      const externalId = `matrix-${Math.random()}`;
      const res = await call(t.url, 'POST', '/v1/documents', { key: ADMIN_KEY, body: { content: `fixture ${externalId}`, namespace: ns, externalId } });
      if (res.status !== 202) throw new Error(`fixture document: ${res.status} ${res.text}`);
      return externalId;
    },
    failedDelivery: async (ns) => {
      const documentId = await ctx.document(ns);
      const rows: Array<{ id: string }> = await db.query(
        `INSERT INTO webhook_deliveries (document_id, namespace, version, event_type, target, url, body, status, attempts)
         VALUES ($1, $2, 1, 'document.ready', 'namespace', 'http://127.0.0.1:9/matrix-hook', '{}', 'failed', 1) RETURNING id`,
        [documentId, ns],
      );
      return rows[0].id;
    },
    namespaceWebhook: async (ns) => {
      const res = await call(t.url, 'PUT', `/v1/namespaces/${ns}/webhook`, { key: ADMIN_KEY, body: { url: 'http://127.0.0.1:9/matrix-hook' } });
      if (res.status !== 200 && res.status !== 201) throw new Error(`fixture webhook: ${res.status} ${res.text}`);
    },
    apiKey: async () => (await createKey(t.url, ADMIN_KEY, { namespaces: [NS], scopes: ['search'] })).id,
    reindexRunning: async () => {
      const res = await call(t.url, 'POST', '/v1/reindex', { key: ADMIN_KEY });
      if (res.status !== 202) throw new Error(`starting a re-embed: ${res.status} ${res.text}`);
    },
    reindexStopped: async () => {
      const res = await call(t.url, 'DELETE', '/v1/reindex', { key: ADMIN_KEY });
      if (res.status !== 200 && res.status !== 404) throw new Error(`cancelling a re-embed: ${res.status} ${res.text}`);
    },
  };

  async function send(route: string, c: RouteCase, key: string | undefined, ns: string) {
    const method = route.split(' ')[0];
    const req = await c.request(ctx, ns);
    try {
      return await call(t.url, method, req.path, { key, body: req.body, stream: c.stream });
    } finally {
      await c.after?.(ctx);
    }
  }

  it('has an entry for every route the service registers, and none for routes it does not', () => {
    const registered = registeredRoutes(t);
    const described = [...Object.keys(ROUTE_CASES), ...PUBLIC_ROUTES];
    expect({ missingFromMatrix: registered.filter((r) => !described.includes(r)) }).toEqual({ missingFromMatrix: [] });
    expect({ noLongerRegistered: described.filter((r) => !registered.includes(r)) }).toEqual({ noLongerRegistered: [] });
  });

  it.each(PUBLIC_ROUTES)('%s answers without a key', async (route) => {
    const [method, path] = route.split(' ');
    const res = await call(t.url, method, path);
    expect(res.status).toBeLessThan(400);
  });

  describe.each(Object.entries(ROUTE_CASES))('%s', (route, c) => {
    const otherScopes = (): Scope[] => SCOPES.filter((s) => s !== c.scope && s !== 'admin');
    const namespaces = (): string[] => (c.namespaced === false ? ['*'] : [NS]);

    it('no key: 401', async () => {
      const res = await send(route, c, undefined, NS);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    });

    it('a wrong key: 401', async () => {
      expect((await send(route, c, `ik_live_${'x'.repeat(43)}`, NS)).status).toBe(401);
    });

    it('a revoked key: 401', async () => {
      const res = await send(route, c, revokedKey, NS);
      expect([res.status, res.body?.message]).toEqual([401, 'API key was revoked']);
    });

    it('an expired key: 401', async () => {
      const res = await send(route, c, expiredKey, NS);
      expect([res.status, res.body?.message]).toEqual([401, 'API key has expired']);
    });

    it(`the right namespace without the "${c.scope}" scope: 403`, async () => {
      const res = await send(route, c, await keyFor(otherScopes(), namespaces()), NS);
      expect([res.status, res.body?.message]).toEqual([403, `this route needs an API key with the "${c.scope}" scope`]);
    });

    if (c.namespaced !== false) {
      const denied = c.namespaced;
      it(`the right scope for another namespace: ${denied}`, async () => {
        const res = await send(route, c, await keyFor([c.scope], [OTHER_NS]), NS);
        expect(res.status).toBe(denied);
      });
    }

    it('the right key: success', async () => {
      const res = await send(route, c, await keyFor([c.scope], namespaces()), NS);
      expect(c.ok.includes(res.status) ? 'success' : `${res.status} ${res.text}`).toBe('success');
    });
  });
});
