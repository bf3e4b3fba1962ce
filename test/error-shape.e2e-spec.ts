import { TestApp, startApp } from './support/test-app';

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function call(baseUrl: string, method: string, path: string, body?: string, contentType = 'application/json'): Promise<Answer> {
  const res = await fetch(`${baseUrl}${path}`, { method, headers: body === undefined ? {} : { 'content-type': contentType }, body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** `{ statusCode, error, message, details? }` and nothing else; statusCode equal to the HTTP status. */
function expectErrorShape(a: Answer, status: number, error: string, message: RegExp): void {
  expect(a.status).toBe(status);
  expect(Object.keys(a.body).filter((k) => !['statusCode', 'error', 'message', 'details'].includes(k))).toEqual([]);
  expect(a.body.statusCode).toBe(status);
  expect(a.body.error).toBe(error);
  expect(typeof a.body.message).toBe('string');
  expect(a.body.message).toMatch(message);
}

describe('every error answers { statusCode, error, message, details? }', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp({ BODY_LIMIT_BYTES: '4096' }, { api: true, worker: false });
  });
  afterAll(async () => {
    await t.close();
  });

  it('an unknown route (404 from the router)', async () => {
    expectErrorShape(await call(t.url, 'GET', '/v1/nothing-here'), 404, 'Not Found', /Cannot GET \/v1\/nothing-here/);
  });

  it('a known path with a method it does not take (405 with Allow)', async () => {
    const a = await call(t.url, 'PATCH', '/v1/documents');
    expectErrorShape(a, 405, 'Method Not Allowed', /PATCH is not allowed on \/v1\/documents/);
  });

  it('validation errors: one sentence in message, each failure in details.errors', async () => {
    const a = await call(t.url, 'POST', '/v1/documents', JSON.stringify({ colour: 'red', metadata: [1] }));
    expectErrorShape(a, 400, 'Bad Request', /content is required/);
    const errors = (a.body.details as { errors: string[] }).errors;
    expect(errors).toEqual(expect.arrayContaining(['content is required', 'property colour should not exist']));
  });

  it('query validation errors', async () => {
    expectErrorShape(await call(t.url, 'GET', '/v1/documents?limit=0'), 400, 'Bad Request', /limit must not be less than 1/);
  });

  it('body-parser errors: malformed JSON, a body over the limit, an unsupported charset', async () => {
    expectErrorShape(await call(t.url, 'POST', '/v1/documents', '{"content": '), 400, 'Bad Request', /not valid JSON/);
    expectErrorShape(
      await call(t.url, 'POST', '/v1/documents', JSON.stringify({ content: 'a'.repeat(5000) })),
      413,
      'Payload Too Large',
      /larger than the limit of 4096 bytes/,
    );
    expectErrorShape(
      await call(t.url, 'POST', '/v1/documents', '{"content":"x"}', 'application/json; charset=koi8-r'),
      415,
      'Unsupported Media Type',
      /UTF-8/,
    );
  });

  it('errors a service throws (404 unknown document, 422 idempotency conflict)', async () => {
    expectErrorShape(await call(t.url, 'GET', '/v1/documents/not-a-uuid'), 404, 'Not Found', /document not found/);
    const key = `shape-${Date.now()}`;
    const post = (content: string) =>
      fetch(`${t.url}/v1/documents`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({ content, namespace: 'error-shape' }),
      });
    expect((await post('first')).status).toBe(202);
    const second = await post('second');
    expectErrorShape({ status: second.status, body: (await second.json()) as Record<string, unknown> }, 422, 'Unprocessable Entity', /Idempotency-Key/);
  });

  it('a malformed percent-escape in the path (an Express error, not a 500)', async () => {
    expectErrorShape(await call(t.url, 'GET', '/v1/documents/%E0%A4%A'), 400, 'Bad Request', /.+/);
  });
});
