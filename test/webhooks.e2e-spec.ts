import { randomBytes } from 'node:crypto';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { postJson, startApp, TestApp } from './support/test-app';
import { ScriptedEmbedder } from './support/scripted-embedder';
import { DataSource } from 'typeorm';
import { WebhookSweeper } from '../src/webhooks/worker/webhook-sweeper';
import { waitUntil } from './support/wait';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local receiver: records every call and answers with the status `reply` gives for it. */
class Receiver {
  readonly calls: Received[] = [];
  reply: (call: Received, index: number) => number = () => 200;
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        const call = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(parts).toString('utf8') };
        this.calls.push(call);
        res.writeHead(this.reply(call, this.calls.length - 1)).end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  to(path: string): Received[] {
    return this.calls.filter((c) => c.path === path);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Polls until `probe` returns something truthy, and returns it. */
const waitFor = <T>(probe: () => Promise<T> | T, timeoutMs: number): Promise<T> => waitUntil('the webhook outcome', probe, (v) => Boolean(v), { timeoutMs });

const verify = (call: Received): { type: string; data: { id: string; status: string; namespace: string } } =>
  new Webhook(SECRET).verify(call.body, call.headers as Record<string, string>) as { type: string; data: { id: string; status: string; namespace: string } };

async function request(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

describe('signed webhooks', () => {
  let app: TestApp;
  const receiver = new Receiver();
  const embedder = new ScriptedEmbedder();
  embedder.fault = (texts) => (texts.some((t) => t.includes('POISON')) ? 'permanent' : undefined);

  beforeAll(async () => {
    await receiver.start();
    app = await startApp({
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      WEBHOOK_ATTEMPTS: '3',
      WEBHOOK_BACKOFF_MS: '50',
      WEBHOOK_BACKOFF_MAX_MS: '200',
    }, { api: true, worker: true }, { embeddingProvider: embedder });
  });

  afterAll(async () => {
    await app?.close();
    await receiver.stop();
  });

  it('calls a document callback signed per Standard Webhooks, and retries after a 500', async () => {
    receiver.reply = (call) => (call.path === '/callback' && receiver.to('/callback').indexOf(call) === 0 ? 500 : 200);
    const posted = await postJson(app.url, '/v1/documents', { content: 'a document someone waits for', callbackUrl: `${receiver.url}/callback` });
    expect(posted.status).toBe(202);

    await waitFor(() => receiver.to('/callback').length >= 2, 20000);
    const [first, second] = receiver.to('/callback');
    for (const call of [first, second]) {
      const payload = verify(call);
      expect(payload).toEqual(expect.objectContaining({ type: 'document.ready', data: expect.objectContaining({ id: posted.body.id, status: 'ready' }) }));
      expect(call.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    }
    // A retry is the same message: same id and body, signed again.
    expect(second.headers['webhook-id']).toBe(first.headers['webhook-id']);
    expect(second.body).toBe(first.body);

    const delivered = await waitFor(async () => {
      const list = await request(app.url, 'GET', `/v1/webhook-deliveries?status=delivered&namespace=default`);
      return list.body.items.find((d: { documentId: string }) => d.documentId === posted.body.id);
    }, 5000);
    expect(delivered).toEqual(expect.objectContaining({ attempts: 2, lastStatusCode: 200, target: 'callback', webhookId: first.headers['webhook-id'] }));
  });

  it('lists deliveries that failed for good and sends them again on request', async () => {
    const ns = `hooks-${randomBytes(4).toString('hex')}`;
    let healthy = false;
    receiver.reply = (call) => (call.path === `/ns/${ns}` && !healthy ? 503 : 200);

    const put = await request(app.url, 'PUT', `/v1/namespaces/${ns}/webhook`, { url: `${receiver.url}/ns/${ns}` });
    expect(put.status).toBe(201);
    expect(put.body.events).toEqual(['document.ready', 'document.failed']);
    expect((await request(app.url, 'GET', `/v1/namespaces/${ns}/webhook`)).body.url).toBe(`${receiver.url}/ns/${ns}`);

    const posted = await postJson(app.url, '/v1/documents', { namespace: ns, content: 'nobody home yet' });
    const failed = await waitFor(async () => {
      const list = await request(app.url, 'GET', `/v1/webhook-deliveries?status=failed&namespace=${ns}`);
      return list.body.items[0];
    }, 20000);
    expect(failed).toEqual(expect.objectContaining({ documentId: posted.body.id, status: 'failed', attempts: 3, lastStatusCode: 503, target: 'namespace' }));
    expect(failed.lastError).toMatch(/503/);
    expect(receiver.to(`/ns/${ns}`)).toHaveLength(3);

    healthy = true;
    const retried = await request(app.url, 'POST', `/v1/webhook-deliveries/${failed.id}/retry`);
    expect(retried.status).toBe(202);
    await waitFor(async () => (await request(app.url, 'GET', `/v1/webhook-deliveries/${failed.id}`)).body.status === 'delivered', 10000);
    expect(verify(receiver.to(`/ns/${ns}`)[3]).data.id).toBe(posted.body.id);

    // Only a failed delivery can be retried.
    expect((await request(app.url, 'POST', `/v1/webhook-deliveries/${failed.id}/retry`)).status).toBe(409);

    expect((await request(app.url, 'DELETE', `/v1/namespaces/${ns}/webhook`)).status).toBe(204);
    expect((await request(app.url, 'GET', `/v1/namespaces/${ns}/webhook`)).status).toBe(404);
  });

  it('sends only the events a namespace webhook asked for', async () => {
    const ns = `only-failed-${randomBytes(4).toString('hex')}`;
    receiver.reply = () => 200;
    const put = await request(app.url, 'PUT', `/v1/namespaces/${ns}/webhook`, { url: `${receiver.url}/only/${ns}`, events: ['document.failed'] });
    expect(put.status).toBe(201);
    const posted = await postJson(app.url, '/v1/documents', { namespace: ns, content: 'this one will be ready', callbackUrl: `${receiver.url}/cb/${ns}` });
    // The callback and the namespace webhook are decided together: once the callback came, the other was skipped.
    await waitFor(() => receiver.to(`/cb/${ns}`).length > 0, 20000);
    expect(verify(receiver.to(`/cb/${ns}`)[0]).data.id).toBe(posted.body.id);
    expect(receiver.to(`/only/${ns}`)).toHaveLength(0);
    expect((await request(app.url, 'GET', `/v1/webhook-deliveries?namespace=${ns}`)).body.items.map((d: { target: string }) => d.target)).toEqual(['callback']);
  });

  it('tells the callback when a document failed, with the error', async () => {
    receiver.reply = () => 200;
    const posted = await postJson(app.url, '/v1/documents', { content: 'POISON: the model rejects this', callbackUrl: `${receiver.url}/failed` });
    await waitFor(() => receiver.to('/failed').length > 0, 20000);
    const payload = verify(receiver.to('/failed')[0]) as unknown as { type: string; data: { id: string; status: string; lastErrorClass: string } };
    expect(payload.type).toBe('document.failed');
    expect(payload.data).toEqual(expect.objectContaining({ id: posted.body.id, status: 'failed', lastErrorClass: expect.any(String) }));
  });

  it('repairs a dispatch lost between the commit and the delivery record', async () => {
    receiver.reply = () => 200;
    const posted = await postJson(app.url, '/v1/documents', { content: 'the worker died right after this one', callbackUrl: `${receiver.url}/lost` });
    await waitFor(() => receiver.to('/lost').length > 0, 20000);
    // As if the worker had stopped before recording the deliveries.
    await app.app.get(DataSource).query(`DELETE FROM webhook_deliveries WHERE document_id = $1`, [posted.body.id]);

    const sweeper = app.app.get(WebhookSweeper);
    expect(await sweeper.sweep(new Date(), 0)).toBeGreaterThanOrEqual(1);
    await waitFor(() => receiver.to('/lost').length > 1, 10000);
    expect(verify(receiver.to('/lost')[1]).data.id).toBe(posted.body.id);
    expect(await sweeper.sweep(new Date(), 0)).toBe(0);
  });

  it('refuses bad webhook bodies with a 400 that says what is wrong', async () => {
    const bad = await request(app.url, 'PUT', '/v1/namespaces/x/webhook', { url: 'https://example.com/', events: ['document.deleted'] });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.message)).toMatch(/each of events must be one of document.ready, document.failed/);
    expect((await request(app.url, 'PUT', '/v1/namespaces/x/webhook', {})).status).toBe(400);
    expect((await request(app.url, 'GET', '/v1/webhook-deliveries?status=lost')).status).toBe(400);
    expect((await request(app.url, 'GET', '/v1/webhook-deliveries?cursor=nonsense')).status).toBe(400);
  });
});

describe('webhook URLs are checked against request forgery (private networks not allowed)', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp({ WEBHOOK_SECRET: SECRET }, { api: true, worker: false });
  });
  afterAll(async () => app?.close());

  it.each([
    ['loopback', 'http://127.0.0.1:8080/hook', /loopback/],
    ['loopback by name', 'http://localhost:8080/hook', /localhost is refused: .*loopback/],
    ['private 10/8', 'http://10.0.0.5/hook', /private/],
    ['private 172.16/12', 'http://172.20.1.1/hook', /private/],
    ['private 192.168/16', 'https://192.168.0.10/hook', /private/],
    ['link-local', 'http://169.254.10.10/hook', /link-local/],
    ['cloud metadata', 'http://169.254.169.254/latest/meta-data', /cloud metadata/],
    ['carrier-grade NAT', 'http://100.64.1.1/hook', /carrier-grade NAT/],
    ['multicast', 'http://239.1.2.3/hook', /multicast/],
    ['unspecified', 'http://0.0.0.0:3000/hook', /unspecified/],
    ['IPv6 loopback', 'http://[::1]:8080/hook', /loopback/],
    ['IPv6 link-local', 'http://[fe80::1]/hook', /link-local/],
    ['IPv6 unique local', 'http://[fd12:3456::1]/hook', /unique local/],
    ['IPv6 multicast', 'http://[ff02::1]/hook', /multicast/],
    ['IPv4-mapped IPv6', 'http://[::ffff:127.0.0.1]/hook', /loopback/],
    ['IPv4-mapped metadata', 'http://[::ffff:a9fe:a9fe]/hook', /cloud metadata/],
    ['decimal-encoded loopback', 'http://2130706433/hook', /loopback/],
    ['non-http scheme', 'file:///etc/passwd', /only http and https/],
  ])('refuses %s at registration (namespace webhook and callbackUrl)', async (_name, url, reason) => {
    const put = await request(app.url, 'PUT', '/v1/namespaces/ssrf/webhook', { url });
    expect(put.status).toBe(400);
    expect(put.body.message).toMatch(reason);
    const doc = await postJson(app.url, '/v1/documents', { content: 'x', callbackUrl: url });
    expect(doc.status).toBe(400);
    expect(doc.body.message).toMatch(/^callbackUrl: /);
  });

  it('refuses webhooks altogether when no secret is configured', async () => {
    const unsigned = await startApp({ WEBHOOK_SECRET: '' }, { api: true, worker: false });
    try {
      const put = await request(unsigned.url, 'PUT', '/v1/namespaces/x/webhook', { url: 'https://example.com/hook' });
      expect(put.status).toBe(400);
      expect(put.body.message).toMatch(/WEBHOOK_SECRET is not set/);
    } finally {
      await unsigned.close();
    }
  });
});
