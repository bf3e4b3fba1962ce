import type { Scope } from '../../src/auth/scopes';

/**
 * The access table of every HTTP route, from which test/auth-route-matrix.e2e-spec.ts generates its cases:
 * no key 401, a wrong, revoked or expired key 401, the right key with the wrong scope 403, the right key for
 * another namespace 404 (403 when creating), the right key 2xx. The suite lists the routes the running app
 * registers and fails for any route missing here, and for any entry naming a route that no longer exists.
 *
 * Adding a route: add one entry under `'<METHOD> <express path>'` (the path exactly as the failure message
 * prints it). Give the scope it needs, a `request` that builds a call aimed at namespace `ns` (creating what it
 * needs through `ctx`, e.g. `await ctx.document(ns)`), whether it is namespaced, and the statuses that mean
 * success. Routes anyone may call go in PUBLIC_ROUTES instead.
 */

export interface MatrixRequest {
  path: string;
  body?: unknown;
}

/** What a case may create before calling its route; everything is made with the admin key. */
export interface MatrixContext {
  /** A queued document in `ns`; returns its id. */
  document(ns: string): Promise<string>;
  /** A failed (dead-lettered) document in `ns`; returns its id. */
  deadLetter(ns: string): Promise<string>;
  /** A queued document in `ns` with an external id; returns the external id. */
  externalDocument(ns: string): Promise<string>;
  /** A failed webhook delivery of a document in `ns`; returns its id. */
  failedDelivery(ns: string): Promise<string>;
  /** A webhook registered for `ns`. */
  namespaceWebhook(ns: string): Promise<void>;
  /** A stored API key; returns its id. */
  apiKey(): Promise<string>;
  /** A running re-embed (started with the admin key). */
  reindexRunning(): Promise<void>;
  /** Ends a re-embed the case may have started. */
  reindexStopped(): Promise<void>;
}

export interface RouteCase {
  /** The scope the route needs; a key with every other scope gets 403. */
  scope: Scope;
  /** Whether the route touches one namespace: a key for another then gets 404 (or 403 when creating there). */
  namespaced: false | 404 | 403;
  /** The call, aimed at namespace `ns`. Called afresh for every case, so a destructive route gets its own target. */
  request(ctx: MatrixContext, ns: string): Promise<MatrixRequest>;
  /** Statuses of success for the right key. */
  ok: number[];
  /** The route answers a stream (server-sent events): only its status and headers are read. */
  stream?: boolean;
  /** Undoes what a successful call started. */
  after?(ctx: MatrixContext): Promise<void>;
}

/** Routes anyone may call; the suite checks they answer without a key. */
export const PUBLIC_ROUTES = ['GET /health/live', 'GET /health/ready', 'GET /metrics', 'GET /docs', 'GET /docs/', 'GET /docs/openapi.json'];

export const ROUTE_CASES: Record<string, RouteCase> = {
  'POST /v1/documents': {
    scope: 'documents:write',
    namespaced: 403,
    request: async (_ctx, ns) => ({ path: '/v1/documents', body: { content: `matrix document ${Math.random()}`, namespace: ns } }),
    ok: [202],
  },
  'GET /v1/documents': {
    scope: 'documents:read',
    namespaced: 404,
    request: async (_ctx, ns) => ({ path: `/v1/documents?namespace=${ns}` }),
    ok: [200],
  },
  'GET /v1/documents/:id': {
    scope: 'documents:read',
    namespaced: 404,
    request: async (ctx, ns) => ({ path: `/v1/documents/${await ctx.document(ns)}` }),
    ok: [200],
  },
  'POST /v1/documents/:id/reprocess': {
    scope: 'documents:write',
    namespaced: 404,
    request: async (ctx, ns) => ({ path: `/v1/documents/${await ctx.document(ns)}/reprocess` }),
    ok: [202],
  },
  'DELETE /v1/documents/:id': {
    scope: 'documents:write',
    namespaced: 404,
    request: async (ctx, ns) => ({ path: `/v1/documents/${await ctx.document(ns)}` }),
    ok: [204],
  },
  // Each item names its namespace: one the key does not hold is rejected alone, in the 200 answer
  // (test/auth.e2e-spec.ts checks it), so the route as a whole is not refused.
  'POST /v1/documents/batch': {
    scope: 'documents:write',
    namespaced: false,
    request: async (_ctx, ns) => ({ path: '/v1/documents/batch', body: { documents: [{ content: `matrix batch ${Math.random()}`, namespace: ns }] } }),
    ok: [200],
  },
  'DELETE /v1/documents': {
    scope: 'documents:write',
    namespaced: 404,
    request: async (ctx, ns) => ({ path: `/v1/documents?namespace=${ns}&externalId=${encodeURIComponent(await ctx.externalDocument(ns))}` }),
    ok: [204],
  },
  'GET /v1/documents/:id/chunks': {
    scope: 'documents:read',
    namespaced: 404,
    request: async (ctx, ns) => ({ path: `/v1/documents/${await ctx.document(ns)}/chunks` }),
    ok: [200],
  },
  'GET /v1/documents/:id/events': {
    scope: 'documents:read',
    namespaced: 404,
    request: async (ctx, ns) => ({ path: `/v1/documents/${await ctx.document(ns)}/events` }),
    ok: [200],
    stream: true,
  },
  'GET /v1/events': {
    scope: 'documents:read',
    namespaced: 404,
    request: async (_ctx, ns) => ({ path: `/v1/events?namespace=${ns}` }),
    ok: [200],
    stream: true,
  },
  'PUT /v1/namespaces/:namespace/webhook': {
    scope: 'documents:write',
    namespaced: 404,
    request: async (_ctx, ns) => ({ path: `/v1/namespaces/${ns}/webhook`, body: { url: 'http://127.0.0.1:9/matrix-hook' } }),
    ok: [200, 201],
  },
  'GET /v1/namespaces/:namespace/webhook': {
    scope: 'documents:read',
    namespaced: 404,
    request: async (ctx, ns) => {
      await ctx.namespaceWebhook(ns);
      return { path: `/v1/namespaces/${ns}/webhook` };
    },
    ok: [200],
  },
  'DELETE /v1/namespaces/:namespace/webhook': {
    scope: 'documents:write',
    namespaced: 404,
    request: async (ctx, ns) => {
      await ctx.namespaceWebhook(ns);
      return { path: `/v1/namespaces/${ns}/webhook` };
    },
    ok: [204],
  },
  'GET /v1/webhook-deliveries': {
    scope: 'documents:read',
    namespaced: 404,
    request: async (_ctx, ns) => ({ path: `/v1/webhook-deliveries?namespace=${ns}&status=failed` }),
    ok: [200],
  },
  'GET /v1/webhook-deliveries/:id': {
    scope: 'documents:read',
    namespaced: 404,
    request: async (ctx, ns) => ({ path: `/v1/webhook-deliveries/${await ctx.failedDelivery(ns)}` }),
    ok: [200],
  },
  'POST /v1/webhook-deliveries/:id/retry': {
    scope: 'documents:write',
    namespaced: 404,
    request: async (ctx, ns) => ({ path: `/v1/webhook-deliveries/${await ctx.failedDelivery(ns)}/retry` }),
    ok: [202],
  },
  'GET /v1/queues': {
    scope: 'admin',
    namespaced: false,
    request: async () => ({ path: '/v1/queues' }),
    ok: [200],
  },
  'GET /v1/audit': {
    scope: 'admin',
    namespaced: false,
    request: async () => ({ path: '/v1/audit' }),
    ok: [200],
  },
  'GET /v1/namespaces/:namespace/usage': {
    scope: 'documents:read',
    namespaced: 404,
    request: async (_ctx, ns) => ({ path: `/v1/namespaces/${ns}/usage` }),
    ok: [200],
  },
  'GET /v1/namespaces/:namespace/backfill': {
    scope: 'documents:read',
    namespaced: 404,
    request: async (_ctx, ns) => ({ path: `/v1/namespaces/${ns}/backfill` }),
    ok: [200],
  },
  'POST /v1/search': {
    scope: 'search',
    namespaced: 404,
    request: async (_ctx, ns) => ({ path: '/v1/search', body: { query: 'matrix document', namespace: ns } }),
    ok: [200],
  },
  'GET /v1/dead-letters': {
    scope: 'documents:read',
    namespaced: 404,
    request: async (_ctx, ns) => ({ path: `/v1/dead-letters?namespace=${ns}` }),
    ok: [200],
  },
  'POST /v1/dead-letters/retry': {
    scope: 'documents:write',
    namespaced: 404,
    request: async (ctx, ns) => {
      await ctx.deadLetter(ns);
      return { path: '/v1/dead-letters/retry', body: { namespace: ns } };
    },
    ok: [202],
  },
  'POST /v1/dead-letters/:id/retry': {
    scope: 'documents:write',
    namespaced: 404,
    request: async (ctx, ns) => ({ path: `/v1/dead-letters/${await ctx.deadLetter(ns)}/retry` }),
    ok: [202],
  },
  'DELETE /v1/dead-letters/:id': {
    scope: 'documents:write',
    namespaced: 404,
    request: async (ctx, ns) => ({ path: `/v1/dead-letters/${await ctx.deadLetter(ns)}` }),
    ok: [204],
  },
  'POST /v1/reindex': {
    scope: 'admin',
    namespaced: false,
    request: async () => ({ path: '/v1/reindex' }),
    ok: [202],
    after: (ctx) => ctx.reindexStopped(),
  },
  'GET /v1/reindex': {
    scope: 'admin',
    namespaced: false,
    request: async () => ({ path: '/v1/reindex' }),
    ok: [200],
  },
  'DELETE /v1/reindex': {
    scope: 'admin',
    namespaced: false,
    request: async (ctx) => {
      await ctx.reindexRunning();
      return { path: '/v1/reindex' };
    },
    ok: [200],
    after: (ctx) => ctx.reindexStopped(),
  },
  'POST /v1/keys': {
    scope: 'admin',
    namespaced: false,
    request: async () => ({ path: '/v1/keys', body: { name: 'from the matrix', namespaces: ['a'], scopes: ['search'] } }),
    ok: [201],
  },
  'GET /v1/keys': {
    scope: 'admin',
    namespaced: false,
    request: async () => ({ path: '/v1/keys' }),
    ok: [200],
  },
  'DELETE /v1/keys/:id': {
    scope: 'admin',
    namespaced: false,
    request: async (ctx) => ({ path: `/v1/keys/${await ctx.apiKey()}` }),
    ok: [200],
  },
};
