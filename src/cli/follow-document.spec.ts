import { createServer, Server } from 'node:http';
import { followDocument } from './follow-document';
import { IngestClient } from './ingest-client';

/** A stand-in for the service: a document that becomes ready when the test says so. */
function fakeService(withEvents: boolean): Promise<{ url: string; server: Server; settle(): void; polls(): number }> {
  let status = 'processing';
  let polls = 0;
  const streams: Array<(chunk: string) => void> = [];
  const server = createServer((req, res) => {
    if (req.url === '/v1/documents/d1/events') {
      if (!withEvents) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Not Found"}');
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': connected\n\n');
      streams.push((chunk) => res.write(chunk));
      return;
    }
    polls++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'd1', status, version: 2, chunkCount: 1, lastError: null }));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
        server,
        settle: () => {
          status = 'ready';
          // Split across writes, as a proxy may deliver it.
          for (const push of streams) {
            push('event: status\ndata: {"status":"ready",');
            push('"version":2}\n\n');
          }
        },
        polls: () => polls,
      }),
    ),
  );
}

/** Follows d1 at version 2, settles it once `polls` status reads happened, and returns what followDocument answered. */
async function followUntilSettled(withEvents: boolean, pollMs: number, settleAfterPolls: number): Promise<{ status: string; polls: number }> {
  const s = await fakeService(withEvents);
  try {
    const following = followDocument(new IngestClient({ baseUrl: s.url }), 'd1', 2, { timeoutMs: 10000, pollMs });
    while (s.polls() < settleAfterPolls) await new Promise((r) => setTimeout(r, 10));
    s.settle();
    const d = await following;
    return { status: d.status, polls: s.polls() };
  } finally {
    s.server.closeAllConnections();
    s.server.close();
  }
}

describe('followDocument', () => {
  it('follows the status event stream to ready, reading the status once after subscribing', async () => {
    // Subscribed, and the status read once after: only the event can tell it the document is ready.
    const r = await followUntilSettled(true, 10000, 1);
    // One read after subscribing and one at the end: no polling.
    expect(r).toEqual({ status: 'ready', polls: 2 });
  });

  it('polls when the server has no event stream (404)', async () => {
    // Still processing after several reads: it keeps polling, and returns once ready.
    expect(await followUntilSettled(false, 20, 4)).toMatchObject({ status: 'ready' });
  });
});
