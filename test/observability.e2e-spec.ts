import { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { redisOptions } from '../src/common/redis-options';
import { loadConfig } from '../src/config/app-config';
import { ServiceProcess } from './support/service-process';
import { families, labelValues, sample } from './support/prometheus-text';
import { closedPort } from './support/tcp-proxy';
import { startApp, waitForDocument } from './support/test-app';

/** Families every process exports, whatever its role. */
const COMMON_FAMILIES = [
  'http_request_duration_seconds',
  'ingest_documents',
  'ingest_queue_jobs',
  'ingest_queue_oldest_waiting_job_age_seconds',
  'ingest_queue_paused',
  'ingest_stage_duration_seconds',
  'ingest_accept_to_ready_seconds',
  'ingest_chunks_written_total',
  'ingest_documents_ready_total',
  'ingest_retries_total',
  'ingest_failures_total',
  'embedding_requests_total',
  'embedding_texts_total',
  'embedding_tokens_total',
  'embedding_rate_limited_total',
  'embedding_rate_budget_wait_seconds',
  'embedding_cache_hits_total',
  'embedding_cache_misses_total',
  'ingest_reconciler_requeued_total',
  'ingest_reconciler_dead_letters_total',
  'ingest_reindex_documents',
  'ingest_reindex_running',
  'ingest_reindex_documents_processed_total',
  'process_cpu_seconds_total',
  'nodejs_heap_size_used_bytes',
];

async function scrape(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
}

interface LogLine {
  level: string;
  msg?: string;
  requestId?: string;
  documentId?: string;
  version?: number;
  req?: { url?: string; headers?: Record<string, string> };
}

/**
 * The API and a worker run as the real entry points (`src/main.ts` with ROLE=api,
 * `src/worker.ts`), as a deployment runs them; their stdout is captured whole.
 */
describe('observability: metrics on both ports, queue states, JSON logs', () => {
  const env = {
    QUEUE_PREFIX: `test-obs-${randomUUID().slice(0, 8)}`,
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    METRICS_DOCUMENTS_REFRESH_MS: '0',
    METRICS_QUEUE_CACHE_MS: '0',
    RECONCILE_INTERVAL_MS: '500',
  };
  let api: ServiceProcess;
  let worker: ServiceProcess;
  const requestId = `obs-${randomUUID()}`;
  const secret = `sk-${randomUUID()}`;
  let documentId: string;

  beforeAll(async () => {
    const [apiPort, workerPort] = [await closedPort(), await closedPort()];
    api = new ServiceProcess('main', { ...env, ROLE: 'api', PORT: String(apiPort) }, `http://127.0.0.1:${apiPort}`);
    worker = new ServiceProcess('worker', { ...env, WORKER_PORT: String(workerPort) }, `http://127.0.0.1:${workerPort}`);
    await Promise.all([api.started(), worker.started()]);
  }, 240000);

  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
  });

  it('serves /metrics on the API port and the worker health port with every family', async () => {
    for (const text of [await scrape(api.url), await scrape(worker.url)]) {
      const declared = families(text);
      const missing = COMMON_FAMILIES.filter((f) => !declared.has(f));
      expect(missing).toEqual([]);
      expect(declared.get('http_request_duration_seconds')).toBe('histogram');
      expect(declared.get('ingest_documents')).toBe('gauge');
      expect(declared.get('ingest_chunks_written_total')).toBe('counter');
      expect(labelValues(text, 'ingest_queue_jobs', 'queue')).toEqual(new Set(['ingest', 'ingest-dlq', 'ingest-reindex', 'ingest-webhooks']));
      expect(labelValues(text, 'ingest_queue_jobs', 'state')).toEqual(
        new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'paused', 'completed', 'failed']),
      );
      expect(labelValues(text, 'ingest_documents', 'state')).toEqual(new Set(['queued', 'processing', 'ready', 'failed']));
    }
  });

  it('follows a document: request id echoed, metrics move on both ports, queues and logs tell its story', async () => {
    const posted = await fetch(`${api.url}/v1/documents`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': requestId, authorization: `Bearer ${secret}`, 'x-api-key': secret },
      body: JSON.stringify({ content: '# Metrics\n\nScrape me.\n\n## Logs\n\nOne JSON object per line.', namespace: 'obs' }),
    });
    expect(posted.status).toBe(202);
    expect(posted.headers.get('x-request-id')).toBe(requestId);
    documentId = ((await posted.json()) as { id: string }).id;
    const done = await waitForDocument(api.url, documentId, (d) => d.status === 'ready');

    // A generated id when none (or a malformed one) is sent.
    const generated = await fetch(`${api.url}/v1/documents/${documentId}`, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    const w = await scrape(worker.url);
    expect(sample(w, 'ingest_documents_ready_total')).toBeGreaterThanOrEqual(1);
    expect(sample(w, 'ingest_chunks_written_total')).toBeGreaterThanOrEqual(done.chunkCount ?? 1);
    expect(sample(w, 'ingest_accept_to_ready_seconds_count')).toBeGreaterThanOrEqual(1);
    // One document, one try: each stage timed once.
    for (const stage of ['claim', 'load', 'split', 'embed', 'write']) {
      expect(sample(w, 'ingest_stage_duration_seconds_count', { stage })).toBe(1);
    }
    expect(sample(w, 'embedding_requests_total', { kind: 'chunks' })).toBeGreaterThanOrEqual(1);
    expect(sample(w, 'embedding_texts_total', { kind: 'chunks' })).toBeGreaterThanOrEqual(1);
    expect(sample(w, 'embedding_tokens_total')).toBeGreaterThan(0);
    expect(sample(w, 'embedding_cache_misses_total') + sample(w, 'embedding_cache_hits_total')).toBeGreaterThanOrEqual(1);
    expect(sample(w, 'ingest_queue_jobs', { queue: 'ingest', state: 'completed' })).toBeGreaterThanOrEqual(1);

    const a = await scrape(api.url);
    expect(sample(a, 'http_request_duration_seconds_count', { route: '/v1/documents', method: 'POST', status_code: '202' })).toBe(1);
    expect(sample(a, 'http_request_duration_seconds_count', { route: '/v1/documents/:id', method: 'GET', status_code: '200' })).toBeGreaterThanOrEqual(1);
    expect(labelValues(a, 'http_request_duration_seconds_count', 'route').has(`/v1/documents/${documentId}`)).toBe(false);
    expect(sample(a, 'ingest_documents', { state: 'ready' })).toBeGreaterThanOrEqual(1);
    // The API embeds search queries: counted by kind.
    const searched = await fetch(`${api.url}/v1/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `how are logs written ${randomUUID()}`, namespace: 'obs' }),
    });
    expect(searched.status).toBe(200);
    expect(sample(await scrape(api.url), 'embedding_texts_total', { kind: 'query' })).toBe(1);
    // A path no route matches is one series, whatever it is.
    await fetch(`${api.url}/nothing/${randomUUID()}`);
    expect(sample(await scrape(api.url), 'http_request_duration_seconds_count', { route: 'unmatched', status_code: '404' })).toBeGreaterThanOrEqual(1);
  });

  it('GET /v1/queues reports each queue by state, its oldest waiting job and whether it is paused', async () => {
    const res = await fetch(`${api.url}/v1/queues`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { queues: Array<{ name: string; counts: Record<string, number>; oldestWaitingAgeSeconds: number | null; paused: boolean }> };
    expect(body.queues.map((q) => q.name)).toEqual(['ingest', 'ingest-dlq', 'ingest-reindex', 'ingest-webhooks']);
    const ingest = body.queues[0];
    expect(ingest.counts).toMatchObject({ waiting: 0, active: 0, delayed: 0, failed: 0 });
    expect(ingest.counts.completed).toBeGreaterThanOrEqual(1);
    expect(ingest.oldestWaitingAgeSeconds).toBeNull();
    expect(ingest.paused).toBe(false);
  });

  it('GET /v1/queues and the queue gauges show a paused queue, its waiting job and that job\'s age', async () => {
    const queue = new Queue('ingest', { connection: redisOptions(loadConfig().redis), prefix: env.QUEUE_PREFIX });
    try {
      await queue.pause();
      const posted = await fetch(`${api.url}/v1/documents`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ content: 'Waits while the queue is paused.', namespace: 'obs' }),
      });
      expect(posted.status).toBe(202);
      const id = ((await posted.json()) as { id: string }).id;
      await new Promise((r) => setTimeout(r, 1100));
      const body = (await (await fetch(`${api.url}/v1/queues`)).json()) as {
        queues: Array<{ name: string; counts: Record<string, number>; oldestWaitingAgeSeconds: number | null; paused: boolean }>;
      };
      const ingest = body.queues.find((q) => q.name === 'ingest')!;
      expect(ingest.paused).toBe(true);
      expect(ingest.counts.waiting + ingest.counts.paused).toBe(1);
      expect(ingest.oldestWaitingAgeSeconds).toBeGreaterThanOrEqual(1);
      const m = await scrape(api.url);
      expect(sample(m, 'ingest_queue_paused', { queue: 'ingest' })).toBe(1);
      expect(sample(m, 'ingest_queue_oldest_waiting_job_age_seconds', { queue: 'ingest' })).toBeGreaterThanOrEqual(1);
      await queue.resume();
      await waitForDocument(api.url, id, (d) => d.status === 'ready');
    } finally {
      await queue.resume();
      await queue.close();
    }
  });

  it('serves the queue dashboard at /admin/queues, read-only by default', async () => {
    const page = await fetch(`${api.url}/admin/queues`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
    const queues = await fetch(`${api.url}/admin/queues/api/queues?activeQueue=ingest&status=completed&page=1`);
    expect(queues.status).toBe(200);
    const body = (await queues.json()) as { queues: Array<{ name: string; readOnlyMode: boolean }> };
    expect(body.queues.map((q) => q.name).sort()).toEqual(['ingest', 'ingest-dlq', 'ingest-reindex', 'ingest-webhooks']);
    expect(body.queues.every((q) => q.readOnlyMode)).toBe(true);
    // Read-only: a retry through the dashboard's API is refused (it answers 200 when writable, below).
    const retry = await fetch(`${api.url}/admin/queues/api/queues/ingest/retry/failed`, { method: 'PUT' });
    expect(retry.status).toBe(405);
  });

  it('writes only JSON lines; lines about the document carry documentId, version and requestId in API and worker; secrets never appear', async () => {
    // Stop both so every line, shutdown included, is in.
    await Promise.all([api.stop(), worker.stop()]);
    const parse = (lines: string[]): LogLine[] =>
      lines.map((line) => {
        try {
          return JSON.parse(line) as LogLine;
        } catch {
          throw new Error(`not a JSON line: ${line}`);
        }
      });
    const apiLines = parse(api.lines);
    const workerLines = parse(worker.lines);
    expect(apiLines.length).toBeGreaterThan(0);
    expect(workerLines.length).toBeGreaterThan(0);
    expect([...apiLines, ...workerLines].every((l) => typeof l.level === 'string' && typeof l.msg === 'string')).toBe(true);

    // The request line of the POST, in the API, with its id and its document.
    const apiAbout = apiLines.filter((l) => l.documentId === documentId && l.requestId === requestId && l.version === 1);
    expect(apiAbout.length).toBeGreaterThanOrEqual(1);
    // The worker's lines about the document carry the id of the request that created it.
    const workerAbout = workerLines.filter((l) => l.documentId === documentId);
    expect(workerAbout.length).toBeGreaterThanOrEqual(1);
    expect(workerAbout.every((l) => l.requestId === requestId && l.version === 1)).toBe(true);

    // A client error stands out as a warning; a success is info.
    expect(apiLines.find((l) => l.req?.url?.startsWith('/nothing/'))?.level).toBe('warn');
    expect(apiLines.find((l) => l.requestId === requestId && l.msg === 'request completed')?.level).toBe('info');

    const everything = [...api.lines, ...worker.lines].join('\n');
    expect(everything).not.toContain(secret);
    const posted = apiLines.find((l) => l.requestId === requestId && l.req?.headers);
    expect(posted?.req?.headers).toMatchObject({ authorization: '[redacted]', 'x-api-key': '[redacted]' });
  });

  it('LOG_FORMAT=pretty writes readable lines instead of JSON', async () => {
    const port = await closedPort();
    const pretty = new ServiceProcess('worker', { ...env, LOG_FORMAT: 'pretty', WORKER_PORT: String(port) }, `http://127.0.0.1:${port}`);
    try {
      await pretty.started();
    } finally {
      await pretty.stop();
    }
    expect(pretty.lines.length).toBeGreaterThan(0);
    expect(pretty.lines.some((l) => /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: .*ingest worker running/.test(l))).toBe(true);
    expect(pretty.lines.filter((l) => l.startsWith('{'))).toEqual([]);
  }, 240000);

  it('a process that cannot start still writes JSON lines saying why', async () => {
    const bad = new ServiceProcess('worker', { ...env, WORKER_PORT: 'eighty', PORT: '-1' }, 'http://127.0.0.1:1');
    expect(await bad.ended()).toBe(1);
    const lines = bad.lines.map((l) => JSON.parse(l) as LogLine);
    expect(lines.length).toBeGreaterThanOrEqual(1);
    const error = lines.find((l) => l.level === 'error');
    expect(error?.msg).toContain('WORKER_PORT');
    expect(error?.msg).toContain('PORT');
  }, 240000);
});

describe('queue dashboard settings', () => {
  it('QUEUE_DASHBOARD_READ_ONLY=false allows actions; QUEUE_DASHBOARD=false serves no dashboard', async () => {
    const writable = await startApp({ QUEUE_DASHBOARD_READ_ONLY: 'false' }, { api: true, worker: false });
    try {
      const body = (await (await fetch(`${writable.url}/admin/queues/api/queues`)).json()) as { queues: Array<{ readOnlyMode: boolean }> };
      expect(body.queues.every((q) => !q.readOnlyMode)).toBe(true);
      expect((await fetch(`${writable.url}/admin/queues/api/queues/ingest/retry/failed`, { method: 'PUT' })).status).toBe(200);
    } finally {
      await writable.close();
    }
    const off = await startApp({ QUEUE_DASHBOARD: 'false' }, { api: true, worker: false });
    try {
      expect((await fetch(`${off.url}/admin/queues`)).status).toBe(404);
      expect((await fetch(`${off.url}/v1/queues`)).status).toBe(200);
    } finally {
      await off.close();
    }
  });
});
