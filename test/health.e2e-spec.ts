import { TcpProxy, closedPort } from './support/tcp-proxy';
import { TestApp, startApp } from './support/test-app';
import { waitUntil } from './support/wait';

interface HealthBody {
  status: string;
  info?: Record<string, { status: string }>;
  /** When down: the one error shape, Terminus's result in `details`. */
  statusCode?: number;
  message?: string;
  details?: { error?: Record<string, { status: string; message?: string }> };
}

async function ready(url: string): Promise<{ status: number; body: HealthBody }> {
  const res = await fetch(`${url}/health/ready`);
  return { status: res.status, body: (await res.json()) as HealthBody };
}

/** `url` (the suite's database or Redis) reached through a local port instead. */
function through(url: URL, port: number): string {
  const proxied = new URL(url);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(port);
  return proxied.toString();
}

describe('health', () => {
  const database = new URL(process.env.DATABASE_URL!);
  const redisUrl = new URL(process.env.REDIS_URL!);
  const pg = new TcpProxy(Number(database.port || 5432), database.hostname);
  const redis = new TcpProxy(Number(redisUrl.port || 6379), redisUrl.hostname);
  let t: TestApp;

  beforeAll(async () => {
    const pgPort = await pg.start();
    const redisPort = await redis.start();
    // The API's probes; a worker's consumer check is tested with the worker.
    t = await startApp({ DATABASE_URL: through(database, pgPort), REDIS_URL: through(redisUrl, redisPort) }, { api: true, worker: false });
  });
  // A test that cut a dependency off leaves it back and answering, whatever runs next.
  afterEach(async () => {
    await waitUntil('readiness to recover', () => ready(t.url), (r) => r.status === 200, { timeoutMs: 15000, intervalMs: 200 });
  });
  afterAll(async () => {
    await t.close();
    await pg.stop();
    await redis.stop();
  });

  it('live answers 200 and ready reports postgres, pgvector and redis up', async () => {
    expect((await fetch(`${t.url}/health/live`)).status).toBe(200);
    const r = await ready(t.url);
    expect(r.status).toBe(200);
    expect(r.body.info).toMatchObject({ postgres: { status: 'up' }, pgvector: { status: 'up' }, redis: { status: 'up' } });
  });

  it('ready reports down (503) while Postgres is unreachable, and up again after', async () => {
    const port = pg.port;
    await pg.stop();
    const down = await ready(t.url);
    expect(down.status).toBe(503);
    expect(down.body.details?.error).toMatchObject({ postgres: { status: 'down' } });
    expect(down.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable', message: expect.stringMatching(/^not ready: .*postgres/) });
    expect((await fetch(`${t.url}/health/live`)).status).toBe(200);
    await pg.start(port);
    await waitUntil('readiness to report Postgres up again', () => ready(t.url), (r) => r.status === 200, { timeoutMs: 15000, intervalMs: 200 });
  });

  it('ready reports down (503) while Redis is unreachable', async () => {
    const port = redis.port;
    await redis.stop();
    const down = await ready(t.url);
    expect(down.status).toBe(503);
    expect(down.body.details?.error).toMatchObject({ redis: { status: 'down' } });
    await redis.start(port);
  });

  it('an API started against a Redis port where nothing listens reports not ready', async () => {
    const api = await startApp({ REDIS_URL: `redis://127.0.0.1:${await closedPort()}` }, { api: true, worker: false });
    try {
      const r = await ready(api.url);
      expect(r.status).toBe(503);
      expect(r.body.details?.error).toMatchObject({ redis: { status: 'down' } });
    } finally {
      await api.close();
    }
  });
});
