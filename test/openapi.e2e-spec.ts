import { OpenAPIObject } from '@nestjs/swagger';
import type { Express } from 'express';
import { TestApp, startApp } from './support/test-app';
import { servedRoutes } from './support/served-routes';

type Operation = { responses: Record<string, { content?: Record<string, { schema?: unknown }> }>; requestBody?: unknown; parameters?: unknown[] };

describe('OpenAPI: the document describes every route the app serves', () => {
  let t: TestApp;
  let document: OpenAPIObject;

  beforeAll(async () => {
    t = await startApp({}, { api: true, worker: true });
    const res = await fetch(`${t.url}/docs/openapi.json`);
    expect(res.status).toBe(200);
    document = (await res.json()) as OpenAPIObject;
  });
  afterAll(async () => {
    await t.close();
  });

  const operation = (path: string, method: string): Operation | undefined =>
    (document.paths[path] as Record<string, Operation> | undefined)?.[method];

  // The documentation's own routes (the UI, its assets, the document) are not part of the API.
  const apiRoutes = () => servedRoutes(t.app).filter((r) => !r.path.startsWith('/docs'));

  it('is OpenAPI 3 and the UI answers at /docs', async () => {
    expect(document.openapi).toMatch(/^3\./);
    const ui = await fetch(`${t.url}/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toMatch(/swagger-ui/i);
    // The UI's script is served from the package, not fetched from elsewhere.
    expect((await fetch(`${t.url}/docs/swagger-ui-bundle.js`)).status).toBe(200);
  });

  it('lists every served route, read from the router at run time', () => {
    const routes = apiRoutes();
    // A sanity floor: the router was read, not an empty stack.
    expect(routes.length).toBeGreaterThan(10);
    const missing = routes.filter((r) => !operation(r.path, r.method)).map((r) => `${r.method.toUpperCase()} ${r.path}`);
    expect(missing).toEqual([]);
  });

  it('gives every served route a success response and error responses in the one error shape', () => {
    const problems: string[] = [];
    for (const r of apiRoutes()) {
      const op = operation(r.path, r.method);
      if (!op) continue;
      const codes = Object.keys(op.responses);
      const name = `${r.method.toUpperCase()} ${r.path}`;
      if (!codes.some((c) => /^2\d\d$/.test(c))) problems.push(`${name}: no 2xx response`);
      // Every success answer with a body says what the body is.
      for (const c of codes.filter((code) => /^2\d\d$/.test(code) && code !== '204')) {
        const content = op.responses[c].content ?? {};
        if (!Object.values(content).some((m) => m.schema !== undefined)) problems.push(`${name}: ${c} has no schema`);
      }
      // Headers are case-insensitive: one declared twice (decorator and @Headers) would show twice in the UI.
      const params = ((op.parameters ?? []) as Array<{ name: string; in: string }>).map((p) => `${p.in}:${p.name.toLowerCase()}`);
      if (new Set(params).size !== params.length) problems.push(`${name}: a parameter is declared twice`);
      const errors = codes.filter((c) => /^[45]\d\d$/.test(c));
      if (!errors.some((c) => c.startsWith('4') || c === '503')) problems.push(`${name}: no 4xx/503 response`);
      for (const c of errors) {
        const schema = JSON.stringify(op.responses[c].content?.['application/json']?.schema ?? null);
        if (!schema.includes('#/components/schemas/ErrorResponse')) problems.push(`${name}: ${c} is not an ErrorResponse`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('describes request bodies and the batch route with examples', () => {
    const batch = operation('/v1/documents/batch', 'post');
    expect(batch?.requestBody).toBeDefined();
    const schemas = document.components?.schemas as Record<string, { properties?: Record<string, { example?: unknown }> }>;
    expect(schemas.CreateDocumentDto.properties?.content.example).toBeDefined();
    expect(schemas.BatchResponse.properties?.results.example).toBeDefined();
    expect(schemas.ErrorResponse.properties?.message).toBeDefined();
    // A document is posted as JSON or as a file in a multipart form: both are described.
    const submit = operation('/v1/documents', 'post')?.requestBody as { content: Record<string, { schema: { properties?: Record<string, unknown> } }> };
    expect(Object.keys(submit.content).sort()).toEqual(['application/json', 'multipart/form-data']);
    expect(submit.content['multipart/form-data'].schema.properties?.file).toMatchObject({ type: 'string', format: 'binary' });
    expect(JSON.stringify(document)).not.toContain('x-multipart-form');
    for (const r of apiRoutes().filter((x) => ['post', 'put', 'patch'].includes(x.method))) {
      const op = operation(r.path, r.method);
      // Routes with a JSON body document it; bodiless actions (reprocess, retry one) have none to describe.
      if (op && op.requestBody === undefined) expect(`${r.method} ${r.path}`).toMatch(/reprocess|\{id\}\/retry|reindex/);
    }
  });

  // Last: it adds a route to the running app.
  it('would name a served route that the document lacks', () => {
    (t.app.getHttpAdapter().getInstance() as Express).get('/v1/not-in-the-document/:id', (_req, res) => {
      res.end();
    });
    const missing = apiRoutes().filter((r) => !operation(r.path, r.method));
    expect(missing).toEqual([{ method: 'get', path: '/v1/not-in-the-document/{id}' }]);
  });
});
