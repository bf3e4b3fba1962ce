import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { WebhookHttpClient } from './webhook-http.client';

describe('WebhookHttpClient', () => {
  let server: Server;
  let port: number;
  let calls: number;
  let answer: (res: import('node:http').ServerResponse) => void;

  beforeAll(async () => {
    server = createServer((req, res) => {
      calls++;
      req.resume();
      req.on('end', () => answer(res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  beforeEach(() => {
    calls = 0;
    answer = (res) => res.end('ok');
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('refuses loopback by IP literal and by name at delivery, without connecting', async () => {
    const client = new WebhookHttpClient(2000, false);
    try {
      const literal = await client.post(`http://127.0.0.1:${port}/`, {}, '{}');
      expect(literal).toEqual(expect.objectContaining({ statusCode: null, error: expect.stringMatching(/127.0.0.1 is a loopback address/) }));
      const named = await client.post(`http://localhost:${port}/`, {}, '{}');
      expect(named.statusCode).toBeNull();
      expect(named.error).toMatch(/localhost is refused: .* loopback/);
      expect(calls).toBe(0);
    } finally {
      await client.close();
    }
  });

  it('does not follow redirects, reads at most a few KB, and gives up after the timeout', async () => {
    const client = new WebhookHttpClient(300, true);
    try {
      answer = (res) => res.writeHead(302, { location: `http://127.0.0.1:${port}/elsewhere` }).end();
      expect((await client.post(`http://127.0.0.1:${port}/`, {}, '{}')).statusCode).toBe(302);
      expect(calls).toBe(1);

      answer = (res) => {
        res.writeHead(500);
        res.write('x'.repeat(64 * 1024));
        // never ends: the client must stop reading on its own
      };
      const big = await client.post(`http://127.0.0.1:${port}/`, {}, '{}');
      expect(big.statusCode).toBe(500);
      expect(big.body.length).toBe(4096);

      answer = () => undefined; // no answer at all
      const started = Date.now();
      const slow = await client.post(`http://127.0.0.1:${port}/`, {}, '{}');
      expect(slow.statusCode).toBeNull();
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await client.close();
    }
  });
});
