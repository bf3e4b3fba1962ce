import { TcpProxy } from './support/tcp-proxy';
import { TestApp, isSettled, postJson, startApp, waitForDocument } from './support/test-app';

/**
 * DATABASE_READ_URL: the "replica" here is the test database reached through its own
 * proxy, so the test can tell which connection each request uses by cutting that one off.
 */
describe('read replica (DATABASE_READ_URL)', () => {
  const database = new URL(process.env.DATABASE_URL!);
  const replica = new TcpProxy(Number(database.port || 5432), database.hostname);
  const namespace = `replica-${Date.now()}`;
  let t: TestApp;
  let id: string;

  beforeAll(async () => {
    const port = await replica.start();
    const readUrl = new URL(database);
    readUrl.hostname = '127.0.0.1';
    readUrl.port = String(port);
    t = await startApp({ DATABASE_READ_URL: readUrl.toString() });
    const posted = await postJson(t.url, '/v1/documents', { content: 'Replicas serve reads; the primary takes writes.', namespace });
    id = posted.body.id;
    await waitForDocument(t.url, id, isSettled);
  });
  afterAll(async () => {
    await t.close();
    await replica.stop();
  });

  const search = () => postJson(t.url, '/v1/search', { query: 'who serves reads?', namespace });
  const list = () => fetch(`${t.url}/v1/documents?namespace=${namespace}`);

  it('search and listings answer from the replica', async () => {
    expect((await search()).body.results[0]).toMatchObject({ documentId: id });
    expect(((await (await list()).json()) as { items: unknown[] }).items).toHaveLength(1);
  });

  it('with the replica gone, search and listings fail while writes and status keep working on the primary', async () => {
    const port = replica.port;
    await replica.stop();
    try {
      expect((await search()).status).toBe(503);
      expect((await list()).status).toBe(503);
      expect((await fetch(`${t.url}/v1/namespaces/${namespace}/usage`)).status).toBe(503);

      const posted = await postJson(t.url, '/v1/documents', { content: 'Written while the replica is away.', namespace });
      expect(posted.status).toBe(202);
      // A document's own status is read from the primary: no replica lag for a caller that polls it.
      expect(await waitForDocument(t.url, posted.body.id, isSettled)).toMatchObject({ status: 'ready' });
    } finally {
      await replica.start(port);
    }
    // Back: the pool reconnects on its own.
    expect((await search()).status).toBe(200);
  });
});
