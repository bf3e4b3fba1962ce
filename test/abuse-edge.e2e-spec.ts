import { connect } from 'node:net';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { TestApp, postJson, startApp } from './support/test-app';

/** Sends raw bytes and resolves with what came back when the server closed the socket (or after `waitMs`). */
function rawExchange(url: string, bytes: string, waitMs: number): Promise<{ text: string; closedAfterMs: number | null }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(Number(port), hostname, () => socket.write(bytes));
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closedAfterMs: null });
    }, waitMs);
    socket.on('data', (d) => (text += d.toString('utf8')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closedAfterMs: Date.now() - started });
    });
  });
}

describe('abuse at the HTTP edge: fast, clear 4xx and bounded sockets', () => {
  let t: TestApp;
  let db: DataSource;
  const ns = `edge-${Date.now()}`;

  beforeAll(async () => {
    t = await startApp({ BODY_LIMIT_BYTES: String(4 * 1024 * 1024), HTTP_IDLE_TIMEOUT_MS: '1000', HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_MAX_CONNECTIONS: '50' }, { api: true, worker: false });
    db = t.app.get<DataSource>(getDataSourceToken());
  });
  afterAll(() => t.close());

  const countStored = async (): Promise<number> =>
    Number((await db.query(`SELECT count(*) AS n FROM documents WHERE namespace = $1`, [ns]))[0].n);

  it.each([
    ['constructor in metadata', `{"content":"x","namespace":"${ns}","metadata":{"a":{"constructor":{"b":1}}}}`, /metadata\.a\.constructor: the key name "constructor" is reserved/],
    ['a top-level constructor', `{"content":"x","namespace":"${ns}","constructor":1}`, /constructor: the key name "constructor" is reserved/],
    ['__proto__ in metadata', `{"content":"x","namespace":"${ns}","metadata":{"__proto__":{"x":1}}}`, /metadata\.__proto__: the key name "__proto__" is reserved/],
    ['a lone surrogate in a metadata key', `{"content":"x","namespace":"${ns}","metadata":{"\\ud800":1}}`, /a key of metadata must not contain a lone UTF-16 surrogate/],
    ['a lone surrogate in a metadata value', `{"content":"x","namespace":"${ns}","metadata":{"k":"\\udc00x"}}`, /metadata\.k must not contain a lone UTF-16 surrogate/],
    ['a lone surrogate in content', `{"content":"a\\ud800b","namespace":"${ns}"}`, /content must not contain a lone UTF-16 surrogate/],
    ['a lone surrogate in title', `{"content":"x","title":"\\ud83d","namespace":"${ns}"}`, /title must not contain a lone UTF-16 surrogate/],
    ['a lone surrogate in externalId', `{"content":"x","externalId":"\\udfff","namespace":"${ns}"}`, /externalId must not contain a lone UTF-16 surrogate/],
    ['NUL in a metadata value', `{"content":"x","namespace":"${ns}","metadata":{"k":"a\\u0000"}}`, /metadata\.k must not contain NUL/],
    ['JSON nested 10,000 deep', `{"content":"x","metadata":${'{"a":'.repeat(10000)}1${'}'.repeat(10000)}}`, /nested deeper than 32 levels/],
    ['metadata nested 9 levels', `{"content":"x","namespace":"${ns}","metadata":${'{"a":'.repeat(9)}1${'}'.repeat(9)}}`, /metadata must be a JSON object with at most 100 keys, 8 levels of nesting and 64 KB/],
    ['metadata of more than 100 keys', JSON.stringify({ content: 'x', namespace: ns, metadata: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, i])) }), /metadata must be a JSON object with at most 100 keys/],
    ['a title over 1000 characters', JSON.stringify({ content: 'x', namespace: ns, title: 't'.repeat(1001) }), /title must be shorter than or equal to 1000 characters/],
    ['an externalId over 512 characters', JSON.stringify({ content: 'x', namespace: ns, externalId: 'e'.repeat(513) }), /externalId must be shorter than or equal to 512 characters/],
    ['a namespace over 128 characters', JSON.stringify({ content: 'x', namespace: 'n'.repeat(129) }), /namespace must be 1-128 characters/],
    ['100,000 unknown keys', `{"content":"x",${Array.from({ length: 100000 }, (_, i) => `"k${i}":1`).join(',')}}`, /request body has more than 1000 keys/],
  ])('documents: %s is a 400 that names it, and nothing is stored', async (_name, body, message) => {
    const started = Date.now();
    const res = await postJson(t.url, '/v1/documents', body);
    expect(res.status).toBe(400);
    expect(String(res.body.message)).toMatch(message);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await countStored()).toBe(0);
  });

  it.each([
    ['constructor in a filter', `{"query":"x","filter":{"constructor":"a"}}`, /filter\.constructor: the key name "constructor" is reserved/],
    ['__proto__ in a filter', `{"query":"x","filter":{"__proto__":{"$in":["a"]}}}`, /filter\.__proto__: the key name "__proto__" is reserved/],
    ['a lone surrogate in a filter value', `{"query":"x","filter":{"k":"\\ud800"}}`, /filter\.k must not contain a lone UTF-16 surrogate/],
    ['NUL in a filter value', `{"query":"x","filter":{"k":{"$in":["a\\u0000"]}}}`, /filter\.k\.\$in\[0\] must not contain NUL/],
  ])('search: %s is a 400', async (_name, body, message) => {
    const res = await postJson(t.url, '/v1/search', body);
    expect(res.status).toBe(400);
    expect(String(res.body.message)).toMatch(message);
  });

  it('keeps toString, valueOf and hasOwnProperty as ordinary metadata keys', async () => {
    const metadata = { toString: 'a', valueOf: 1, hasOwnProperty: true, nested: { toString: 'b' } };
    const res = await postJson(t.url, '/v1/documents', { content: 'ordinary keys', namespace: `${ns}-keys`, metadata });
    expect(res.status).toBe(202);
    const doc = (await (await fetch(`${t.url}/v1/documents/${res.body.id}`)).json()) as { metadata: unknown };
    expect(doc.metadata).toEqual(metadata);
  });

  it('refuses page limits and topK out of range with 400', async () => {
    expect((await fetch(`${t.url}/v1/documents?limit=101`)).status).toBe(400);
    expect((await fetch(`${t.url}/v1/dead-letters?limit=0`)).status).toBe(400);
    expect((await postJson(t.url, '/v1/search', { query: 'x', topK: 101 })).status).toBe(400);
    expect((await postJson(t.url, '/v1/dead-letters/retry', { limit: 10001 })).status).toBe(400);
  });

  it('answers a query string with a reserved key or NUL with 400', async () => {
    expect((await fetch(`${t.url}/v1/documents?constructor=1`)).status).toBe(400);
    expect((await fetch(`${t.url}/v1/documents?namespace=a%00b`)).status).toBe(400);
  });

  it.each([
    ['text/plain', '/v1/reindex'],
    ['application/x-www-form-urlencoded', '/v1/dead-letters/retry'],
    ['text/plain', '/v1/documents/00000000-0000-4000-8000-000000000000/reprocess'],
    ['multipart/form-data; boundary=x', '/v1/search'],
    ['text/plain', '/v1/documents'],
  ])('refuses a %s body to %s with 415 before running anything', async (type, path) => {
    const res = await fetch(`${t.url}${path}`, { method: 'POST', headers: { 'content-type': type }, body: 'a=1' });
    expect(res.status).toBe(415);
    expect(((await res.json()) as { message: string }).message).toMatch(/request bodies must be JSON/);
  });

  it('takes a bodiless DELETE that names a JSON content type anyway', async () => {
    const res = await fetch(`${t.url}/v1/documents/00000000-0000-4000-8000-000000000000`, { method: 'DELETE', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(404);
  });

  it('answers PUT and PATCH on existing paths with 405 and Allow', async () => {
    const put = await fetch(`${t.url}/v1/documents/00000000-0000-4000-8000-000000000000`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('DELETE, GET, HEAD');
    const patch = await fetch(`${t.url}/v1/search`, { method: 'PATCH' });
    expect(patch.status).toBe(405);
    expect(patch.headers.get('allow')).toBe('POST');
    expect((await fetch(`${t.url}/v1/nothing-here`, { method: 'PUT' })).status).toBe(404);
  });

  it('sends no X-Powered-By', async () => {
    const res = await fetch(`${t.url}/health/live`);
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  it.each([
    ['an impossible date', Buffer.from('2024-13-45T99:99:99.000000Z|00000000-0000-4000-8000-000000000000').toString('base64url')],
    ['a non-UUID id', Buffer.from('2024-01-01T00:00:00.000000Z|------------------------------------').toString('base64url')],
    ['garbage', '%%%'],
  ])('answers a cursor with %s with 400', async (_name, cursor) => {
    for (const path of ['/v1/documents', '/v1/dead-letters']) {
      const res = await fetch(`${t.url}${path}?cursor=${encodeURIComponent(cursor)}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { message: string }).message).toMatch(/cursor/);
    }
  });

  it('answers a Content-Length over the limit with 413 at once and closes the socket', async () => {
    const head = `POST /v1/documents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${20 * 1024 * 1024}\r\n\r\n{"content":`;
    const r = await rawExchange(t.url, head, 5000);
    expect(r.text).toMatch(/^HTTP\/1\.1 413/);
    expect(r.closedAfterMs).not.toBeNull();
    expect(r.closedAfterMs as number).toBeLessThan(1000);
  });

  it('closes a socket whose body stalls, and one whose headers never finish', async () => {
    const stalledBody = `POST /v1/documents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"content":`;
    const body = await rawExchange(t.url, stalledBody, 5000);
    expect(body.closedAfterMs).not.toBeNull();
    expect(body.closedAfterMs as number).toBeLessThan(4000);
    const headers = await rawExchange(t.url, `GET /health/live HTTP/1.1\r\nHost: x\r\n`, 5000);
    expect(headers.closedAfterMs).not.toBeNull();
    expect(headers.closedAfterMs as number).toBeLessThan(4000);
  });

  it('refuses connections past HTTP_MAX_CONNECTIONS and stays live', async () => {
    const stalled = Array.from({ length: 60 }, () => rawExchange(t.url, `GET /health/live HTTP/1.1\r\nHost: x\r\n`, 3000));
    const outcomes = await Promise.all(stalled);
    // Past the cap, sockets are closed at once instead of being held.
    expect(outcomes.filter((o) => o.closedAfterMs !== null && o.closedAfterMs < 500).length).toBeGreaterThanOrEqual(10);
    expect((await fetch(`${t.url}/health/live`)).status).toBe(200);
  });
});
