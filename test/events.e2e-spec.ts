import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { postJson, startApp, TestApp, waitForDocument, isSettled } from './support/test-app';
import { openSse, SseEvent } from './support/sse-client';
import { ScriptedEmbedder } from './support/scripted-embedder';
import { ServiceProcess } from './support/service-process';
import { closedPort } from './support/tcp-proxy';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

interface StatusData {
  documentId: string;
  namespace: string;
  version: number;
  status: string;
  stage?: string;
  chunksEmbedded?: number;
  chunksTotal?: number;
  chunkCount?: number;
}

const parse = (e: SseEvent): StatusData => JSON.parse(e.data) as StatusData;
const text = (paragraphs: number): string =>
  Array.from({ length: paragraphs }, (_, i) => `Paragraph ${i} about live status events and how they travel through Redis.`).join('\n\n');

/** The statuses of one document's events, consecutive repeats folded (progress events repeat `processing`). */
function statusPath(events: SseEvent[], documentId: string): string[] {
  const path: string[] = [];
  for (const e of events.map(parse).filter((d) => d.documentId === documentId)) {
    if (path[path.length - 1] !== e.status) path.push(e.status);
  }
  return path;
}

describe('live status over SSE, served by a second API process', () => {
  let worker: TestApp; // API + worker: takes the documents and does the work
  let api: TestApp; // API only, same Redis prefix: serves the streams

  beforeAll(async () => {
    const embedder = new ScriptedEmbedder();
    embedder.fault = (texts) => (texts.some((t) => t.includes('POISON')) ? 'permanent' : undefined);
    const embed = embedder.embed.bind(embedder);
    embedder.embed = async (texts) => {
      if (texts.some((t) => t.includes('SLOW'))) await new Promise((r) => setTimeout(r, 3000));
      return embed(texts);
    };
    worker = await startApp({ WEBHOOK_SECRET: SECRET, EMBEDDING_BATCH_SIZE: '4' }, { api: true, worker: true }, { embeddingProvider: embedder });
    api = await startApp({ WEBHOOK_SECRET: SECRET, QUEUE_PREFIX: worker.config.queue.prefix, EVENTS_HEARTBEAT_MS: '200' }, { api: true, worker: false });
  });

  afterAll(async () => {
    await api?.close();
    await worker?.close();
  });

  it('streams a namespace: queued -> processing (each stage, embedding progress) -> ready, in order', async () => {
    const ns = `sse-${randomBytes(4).toString('hex')}`;
    const stream = await openSse(`${api.url}/v1/events?namespace=${ns}`);
    expect(stream.status).toBe(200);
    try {
      const posted = await postJson(worker.url, '/v1/documents', { namespace: ns, content: text(40), chunking: { size: 200, overlap: 0 } });
      expect(posted.status).toBe(202);
      const id = posted.body.id as string;
      await stream.waitFor((e) => parse(e).documentId === id && parse(e).status === 'ready');

      const mine = stream.events.filter((e) => parse(e).documentId === id);
      expect(statusPath(mine, id)).toEqual(['queued', 'processing', 'ready']);
      const stages = [...new Set(mine.map(parse).filter((d) => d.status === 'processing').map((d) => d.stage))];
      expect(stages).toEqual(['load', 'split', 'embed', 'write']);
      const progress = mine.map(parse).filter((d) => d.stage === 'embed');
      const total = progress[0].chunksTotal as number;
      expect(total).toBeGreaterThan(4);
      expect(progress[0].chunksEmbedded).toBe(0);
      expect(progress[progress.length - 1].chunksEmbedded).toBe(total);
      const counts = progress.map((d) => d.chunksEmbedded as number);
      expect(counts).toEqual([...counts].sort((a, b) => a - b));
      expect(parse(mine[mine.length - 1]).chunkCount).toBe(total);
      // Every event carries an id to resume from, increasing.
      const ids = mine.map((e) => e.id as string);
      expect(ids.every((i) => /^\d+-\d+$/.test(i))).toBe(true);
      // The history lives under the queue prefix and expires once the namespace goes quiet.
      const redis = new Redis({ host: worker.config.redis.host, port: worker.config.redis.port });
      try {
        const key = `${worker.config.queue.prefix}:events:ns:${ns}`;
        expect(await redis.xlen(key)).toBe(mine.length);
        expect(await redis.ttl(key)).toBeGreaterThan(23 * 3600);
      } finally {
        redis.disconnect();
      }
    } finally {
      stream.close();
    }
  });

  it('streams one document until it is ready, then ends; a late client gets the final state at once', async () => {
    const posted = await postJson(worker.url, '/v1/documents', { content: text(30), chunking: { size: 200, overlap: 0 } });
    const id = posted.body.id as string;
    const stream = await openSse(`${api.url}/v1/documents/${id}/events`);
    expect(stream.status).toBe(200);
    await stream.ended;
    const path = statusPath(stream.events, id);
    expect(path[path.length - 1]).toBe('ready');
    expect(['queued', 'processing']).toContain(path[0]);
    expect(path.indexOf('ready')).toBe(path.length - 1);

    const late = await openSse(`${api.url}/v1/documents/${id}/events`);
    await late.ended;
    expect(late.events.map(parse)).toEqual([expect.objectContaining({ documentId: id, status: 'ready', chunkCount: expect.any(Number) })]);
  });

  it('ends a document stream with failed and the error when processing fails for good', async () => {
    const posted = await postJson(worker.url, '/v1/documents', { content: 'POISON: the model rejects this' });
    const stream = await openSse(`${api.url}/v1/documents/${posted.body.id}/events`);
    await stream.ended;
    const last = parse(stream.events[stream.events.length - 1]);
    expect(last).toEqual(expect.objectContaining({ status: 'failed', error: expect.objectContaining({ stage: 'embed', message: expect.stringMatching(/scripted/) }) }));

    // Retried from the dead letters: failed -> queued under the next version.
    const ns = await openSse(`${api.url}/v1/events?namespace=default`);
    try {
      expect((await postJson(worker.url, `/v1/dead-letters/${posted.body.id}/retry`, {})).status).toBeLessThan(300);
      const queued = await ns.waitFor((e) => parse(e).documentId === posted.body.id && parse(e).status === 'queued');
      expect(parse(queued).version).toBe(last.version + 1);
    } finally {
      ns.close();
    }
  });

  it('resumes after Last-Event-ID without missing or repeating events', async () => {
    const ns = `resume-${randomBytes(4).toString('hex')}`;
    const first = await openSse(`${api.url}/v1/events?namespace=${ns}`);
    const a = await postJson(worker.url, '/v1/documents', { namespace: ns, content: 'first document' });
    const lastSeen = await first.waitFor((e) => parse(e).documentId === a.body.id && parse(e).status === 'ready');
    first.close();

    // While disconnected: a second document goes all the way through.
    const b = await postJson(worker.url, '/v1/documents', { namespace: ns, content: 'second document, posted while no one listened' });
    await waitForDocument(worker.url, b.body.id as string, isSettled);

    const resumed = await openSse(`${api.url}/v1/events?namespace=${ns}`, { 'last-event-id': lastSeen.id as string });
    try {
      await resumed.waitFor((e) => parse(e).documentId === b.body.id && parse(e).status === 'ready');
      expect(resumed.events.some((e) => parse(e).documentId === a.body.id)).toBe(false);
      expect(statusPath(resumed.events, b.body.id as string)).toEqual(['queued', 'processing', 'ready']);

      // Live events still follow the replayed history.
      const c = await postJson(worker.url, '/v1/documents', { namespace: ns, content: 'third document, live again' });
      await resumed.waitFor((e) => parse(e).documentId === c.body.id && parse(e).status === 'ready');
      const ids = resumed.events.map((e) => e.id as string);
      expect(new Set(ids).size).toBe(ids.length);
    } finally {
      resumed.close();
    }
  });

  it('ends a document stream when the document is deleted', async () => {
    const ns = `gone-${randomBytes(4).toString('hex')}`;
    // Held in processing by a slow model, so the stream is still open when the document goes.
    const posted = await postJson(worker.url, '/v1/documents', { namespace: ns, content: `SLOW ${text(3)}` });
    const stream = await openSse(`${api.url}/v1/documents/${posted.body.id}/events`);
    await stream.waitFor((e) => parse(e).status === 'processing');
    expect((await fetch(`${worker.url}/v1/documents/${posted.body.id}`, { method: 'DELETE' })).status).toBe(204);
    await stream.ended; // within a heartbeat (200 ms here), or the test times out
    expect(stream.events.map(parse).some((d) => d.status === 'ready')).toBe(false);
  });

  it('answers bad stream requests with a 4xx that says what is wrong', async () => {
    const noNamespace = await fetch(`${api.url}/v1/events`);
    expect(noNamespace.status).toBe(400);
    expect(((await noNamespace.json()) as { message: string }).message).toMatch(/namespace is required/);

    const badId = await fetch(`${api.url}/v1/events?namespace=x`, { headers: { 'last-event-id': 'yesterday' } });
    expect(badId.status).toBe(400);
    expect(((await badId.json()) as { message: string }).message).toMatch(/Last-Event-ID/);

    expect((await fetch(`${api.url}/v1/documents/00000000-0000-4000-8000-000000000000/events`)).status).toBe(404);
    expect((await fetch(`${api.url}/v1/documents/not-a-uuid/events`)).status).toBe(404);
  });
});

describe('live status through an API replica that is a process of its own', () => {
  let worker: TestApp;
  let replica: ServiceProcess;

  beforeAll(async () => {
    worker = await startApp({ WEBHOOK_SECRET: SECRET }, { api: true, worker: true });
    const port = await closedPort();
    replica = new ServiceProcess(
      'main',
      { ROLE: 'api', PORT: String(port), QUEUE_PREFIX: worker.config.queue.prefix, WEBHOOK_SECRET: SECRET, LOG_LEVEL: 'fatal' },
      `http://127.0.0.1:${port}`,
    );
    await replica.started();
  }, 240000);

  afterAll(async () => {
    await replica?.stop();
    await worker?.close();
  });

  it('streams queued -> processing -> ready for a document another process accepted and processed', async () => {
    const ns = `sse-proc-${randomBytes(4).toString('hex')}`;
    const stream = await openSse(`${replica.url}/v1/events?namespace=${ns}`);
    expect(stream.status).toBe(200);
    try {
      const posted = await postJson(worker.url, '/v1/documents', { namespace: ns, content: text(20), chunking: { size: 200, overlap: 0 } });
      expect(posted.status).toBe(202);
      const id = posted.body.id as string;
      await stream.waitFor((e) => parse(e).documentId === id && parse(e).status === 'ready');
      expect(statusPath(stream.events, id)).toEqual(['queued', 'processing', 'ready']);
    } finally {
      stream.close();
    }
  });
});
