import { startApp, TestApp } from './support/test-app';

describe('live status while Redis does not answer', () => {
  let app: TestApp;

  beforeAll(async () => {
    // Nothing listens on port 1: every Redis call of this API process fails.
    app = await startApp({ REDIS_URL: 'redis://127.0.0.1:1' }, { api: true, worker: false });
  });
  afterAll(async () => app?.close());

  it('answers a stream request with 503 and what to do, not a hang or a 500', async () => {
    const started = Date.now();
    const res = await fetch(`${app.url}/v1/events?namespace=docs`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { message: string }).message).toMatch(/live status is unavailable/);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
