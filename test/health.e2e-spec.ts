import { TcpProxy, closedPort } from './support/tcp-proxy';
import { TestApp, startApp } from './support/test-app';

interface HealthBody {
  status: string;
  info?: Record<string, { status: string }>;
  error?: Record<string, { status: string; message?: string }>;
}

async function ready(url: string): Promise<{ status: number; body: HealthBody }> {
  const res = await fetch(`${url}/health/ready`);
  return { status: res.status, body: (await res.json()) as HealthBody };
}

describe('health', () => {
  const pg = new TcpProxy(5432);
  const redis = new TcpProxy(6379);
  let t: TestApp;

  beforeAll(async () => {
    const pgPort = await pg.start();
    const redisPort = await redis.start();
    // The API's probes; a worker's consumer check is tested with the worker.
    t = await startApp(
      { DATABASE_URL: `postgres://postgres@127.0.0.1:${pgPort}/ingest_test`, REDIS_URL: `redis://127.0.0.1:${redisPort}` },
      { api: true, worker: false },
    );
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
    expect(down.body.error).toMatchObject({ postgres: { status: 'down' } });
    expect((await fetch(`${t.url}/health/live`)).status).toBe(200);
    await pg.start(port);
    const deadline = Date.now() + 15000;
    let r = await ready(t.url);
    while (r.status !== 200 && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 200));
      r = await ready(t.url);
    }
    expect(r.status).toBe(200);
  });

  it('ready reports down (503) while Redis is unreachable', async () => {
    const port = redis.port;
    await redis.stop();
    const down = await ready(t.url);
    expect(down.status).toBe(503);
    expect(down.body.error).toMatchObject({ redis: { status: 'down' } });
    await redis.start(port);
  });

  it('an API started against a Redis port where nothing listens reports not ready', async () => {
    const api = await startApp({ REDIS_URL: `redis://127.0.0.1:${await closedPort()}` }, { api: true, worker: false });
    try {
      const r = await ready(api.url);
      expect(r.status).toBe(503);
      expect(r.body.error).toMatchObject({ redis: { status: 'down' } });
    } finally {
      await api.close();
    }
  });
});
