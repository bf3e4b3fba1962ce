/**
 * One very large uploaded document, end to end: a text file of --mb megabytes streamed
 * to an API process, split by a worker and embedded in slices by --workers worker
 * processes (`hash` provider), until it is ready. Prints the time, chunks/s and the peak
 * resident set of every process (sampled from /proc every 100 ms, and VmHWM), and, as the
 * baseline measured in the same run by the same processes, the chunks/s of --docs
 * ordinary documents of ~10 KB posted as JSON. The HNSW index is present throughout.
 *
 *   npm run build && DATABASE_URL=postgres://… node dist/bench/large-document.bench.js --mb 50 --workers 2 --docs 200
 */
import { Queue } from 'bullmq';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { redisOptions } from '../src/common/redis-options';
import { loadConfig } from '../src/config/app-config';
import { INGEST_QUEUE } from '../src/ingest/queue/ingest.jobs';
import { intFlag, runProcessBench } from './support/bench-main';
import { ChildRegistry, ServiceProcess, freePort, sleep, waitReady } from './support/child-processes';
import { generateDocument } from './support/corpus';
import { memoryOf, streamUpload } from './support/upload-stream';

const MB = 1024 * 1024;

interface Status {
  status: string;
  chunkCount: number | null;
  progress: { chunksEmbedded: number; chunksTotal: number } | null;
  lastError: string | null;
}

async function statusOf(url: string, id: string): Promise<Status> {
  const res = await fetch(`${url}/v1/documents/${id}`);
  if (res.status !== 200) throw new Error(`GET /v1/documents/${id} answered ${res.status}`);
  return (await res.json()) as Status;
}

/** Polls until the document is ready; throws if it fails. `onPoll` sees each status. */
async function untilReady(url: string, id: string, onPoll: (s: Status) => void = () => undefined): Promise<Status> {
  for (;;) {
    const s = await statusOf(url, id);
    onPoll(s);
    if (s.status === 'ready') return s;
    if (s.status === 'failed') throw new Error(`document ${id} failed: ${s.lastError}`);
    await sleep(250);
  }
}

/** Peak RSS of each process while sampling runs. */
class RssSampler {
  private readonly peaks = new Map<string, number>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly procs: ServiceProcess[]) {}

  start(): void {
    this.timer = setInterval(() => {
      for (const p of this.procs) {
        const rss = memoryOf(p.child.pid as number).rss;
        this.peaks.set(p.name, Math.max(this.peaks.get(p.name) ?? 0, rss));
      }
    }, 100);
  }

  report(): string[] {
    clearInterval(this.timer);
    return this.procs.map((p) => {
      const hwm = memoryOf(p.child.pid as number).hwm;
      return `  ${p.name.padEnd(9)} peak RSS ${((this.peaks.get(p.name) ?? 0) / MB).toFixed(0)} MB sampled, VmHWM ${(hwm / MB).toFixed(0)} MB`;
    });
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const flag = (name: string, fallback: string): string => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : fallback;
  };
  const megabytes = intFlag('--mb', flag('--mb', '50'), 1);
  const workers = intFlag('--workers', flag('--workers', '2'), 1);
  const docs = intFlag('--docs', flag('--docs', '200'), 1);
  const root = path.resolve(__dirname, '..', '..');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    QUEUE_PREFIX: `bench-large-${randomBytes(4).toString('hex')}`,
    EMBEDDING_PROVIDER: 'hash',
    EMBEDDING_DIMENSION: process.env.EMBEDDING_DIMENSION ?? '384',
    ALLOW_MODEL_MISMATCH: 'true',
    UPLOAD_LIMIT_BYTES: String(Math.max(megabytes + 1, 100) * MB),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  };
  const migrate = spawnSync(process.execPath, [path.join(root, 'dist/src/database/migrate.js')], { env, encoding: 'utf8' });
  if (migrate.status !== 0) throw new Error(`migrations failed:\n${migrate.stderr}`);

  const children = new ChildRegistry();
  const bench = { logTails: () => children.logTails(), cleanup: () => children.stopAll() };
  await runProcessBench(bench, 3600, async () => {
    const port = await freePort();
    const api = children.start('api', path.join(root, 'dist/src/main.js'), { ...env, ROLE: 'api', PORT: String(port) }, port, path.join(tmpdir(), 'large-document-api.log'));
    const procs = [api];
    for (let i = 1; i <= workers; i++) {
      const wport = await freePort();
      const log = path.join(tmpdir(), `large-document-worker-${i}.log`);
      procs.push(children.start(`worker-${i}`, path.join(root, 'dist/src/worker.js'), { ...env, ROLE: 'worker', WORKER_PORT: String(wport) }, wport, log));
    }
    for (const p of procs) await waitReady(p, '/health/ready', 60000);
    const sampler = new RssSampler(procs);
    sampler.start();
    const namespace = `bench-large-${Date.now()}`;
    const ids: string[] = [];

    // Baseline: ordinary documents, eight requests in flight.
    const started = Date.now();
    const corpus = Array.from({ length: docs }, (_, i) => generateDocument(7, i, 10 * 1024));
    for (let i = 0; i < corpus.length; i += 8) {
      const posted = await Promise.all(
        corpus.slice(i, i + 8).map(async (d) => {
          const res = await fetch(`${api.url}/v1/documents`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ ...d, namespace }),
          });
          if (res.status !== 202) throw new Error(`POST /v1/documents answered ${res.status}: ${await res.text()}`);
          return ((await res.json()) as { id: string }).id;
        }),
      );
      ids.push(...posted);
    }
    let baseChunks = 0;
    for (const id of ids) baseChunks += (await untilReady(api.url, id)).chunkCount ?? 0;
    const baseSeconds = (Date.now() - started) / 1000;
    const baseRate = baseChunks / baseSeconds;
    console.log(`baseline: ${docs} documents of ~10 KB, ${baseChunks} chunks in ${baseSeconds.toFixed(1)} s: ${baseRate.toFixed(0)} chunks/s`);

    // The large document: distinct generated prose, streamed as one markdown file.
    let block = 0;
    const nextBlock = (): Buffer => Buffer.from(generateDocument(11, block++, 64 * 1024).content + '\n\n');
    const uploadStarted = Date.now();
    const res = await streamUpload(api.url, { name: 'large.md', type: 'text/markdown' }, megabytes * MB, nextBlock, { namespace });
    const uploadSeconds = (Date.now() - uploadStarted) / 1000;
    if (res.status !== 202) throw new Error(`upload answered ${res.status}: ${res.body}`);
    const id = (JSON.parse(res.body) as { id: string }).id;
    ids.push(id);
    console.log(`upload of ${megabytes} MB accepted in ${uploadSeconds.toFixed(1)} s`);
    let firstProgressAt = 0;
    let embeddedAt = 0;
    let lastPrinted = 0;
    const ready = await untilReady(api.url, id, (s) => {
      if (s.progress && firstProgressAt === 0) firstProgressAt = Date.now();
      if (s.progress && embeddedAt === 0 && s.progress.chunksEmbedded === s.progress.chunksTotal) embeddedAt = Date.now();
      if (s.progress && Date.now() - lastPrinted > 10000) {
        lastPrinted = Date.now();
        console.log(`  ${((Date.now() - uploadStarted) / 1000).toFixed(0)} s: ${s.progress.chunksEmbedded} / ${s.progress.chunksTotal} chunks embedded`);
      }
    });
    const readySeconds = (Date.now() - uploadStarted) / 1000;
    const chunks = ready.chunkCount ?? 0;
    const rate = chunks / (readySeconds - uploadSeconds);
    console.log(`large document: ${chunks} chunks, ready ${readySeconds.toFixed(1)} s after the upload began (${(readySeconds - uploadSeconds).toFixed(1)} s after it was accepted)`);
    const phase = (from: number, to: number): string => `${((to - from) / 1000).toFixed(1)} s`;
    console.log(`  phases: split and staged ${phase(uploadStarted + uploadSeconds * 1000, firstProgressAt)}, slices embedded ${phase(firstProgressAt, embeddedAt)}, published ${phase(embeddedAt, uploadStarted + readySeconds * 1000)}`);
    console.log(`chunks/s: ${rate.toFixed(0)} for the large document against ${baseRate.toFixed(0)} for ordinary documents: ${(rate / baseRate).toFixed(2)}x`);
    console.log('peak memory of every process over the whole run:');
    for (const line of sampler.report()) console.log(line);

    for (const doc of ids) await fetch(`${api.url}/v1/documents/${doc}`, { method: 'DELETE' });
    const queue = new Queue(INGEST_QUEUE, { connection: redisOptions(loadConfig(env).redis), prefix: env.QUEUE_PREFIX });
    await queue.obliterate({ force: true });
    await queue.close();
  });
}

void main();
