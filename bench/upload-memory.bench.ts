/**
 * Memory of the API process while a large file upload streams in: the bytes go to
 * Postgres part by part, so the process's resident set should stay near where it
 * started whatever the file's size. Starts an API-only process (no worker: the upload
 * is measured, not its extraction), samples its RSS from /proc every 20 ms while one
 * multipart upload of --mb megabytes is sent, prints the figures, deletes the document.
 *
 *   npm run build && DATABASE_URL=postgres://… node dist/bench/upload-memory.bench.js --mb 100
 */
import { Queue } from 'bullmq';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { redisOptions } from '../src/common/redis-options';
import { loadConfig } from '../src/config/app-config';
import { INGEST_QUEUE } from '../src/ingest/queue/ingest.jobs';
import { ChildRegistry, freePort, sleep, waitReady } from './support/child-processes';
import { intFlag, runProcessBench } from './support/bench-main';
import { memoryOf, streamUpload } from './support/upload-stream';

const MB = 1024 * 1024;

const LINE = Buffer.from('Sensor 4 reported a steady reading while the cooling loop ran at nominal pressure.\n');
const BLOCK = Buffer.concat(Array.from({ length: Math.ceil((64 * 1024) / LINE.length) }, () => LINE)).subarray(0, 64 * 1024);

/** One multipart upload of `bytes` of markdown-like text. */
function upload(url: string, filename: string, bytes: number): Promise<{ status: number; body: string }> {
  return streamUpload(url, { name: filename, type: 'text/markdown' }, bytes, () => BLOCK);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const flag = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const megabytes = intFlag('--mb', flag('--mb') ?? '100', 1);
  const root = path.resolve(__dirname, '..', '..');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ROLE: 'api',
    QUEUE_PREFIX: `bench-upload-${randomBytes(4).toString('hex')}`,
    EMBEDDING_PROVIDER: process.env.EMBEDDING_PROVIDER ?? 'hash',
    EMBEDDING_DIMENSION: process.env.EMBEDDING_DIMENSION ?? '384',
    ALLOW_MODEL_MISMATCH: 'true',
    UPLOAD_LIMIT_BYTES: String(Math.max(megabytes + 1, 100) * MB),
  };
  const migrate = spawnSync(process.execPath, [path.join(root, 'dist/src/database/migrate.js')], { env, encoding: 'utf8' });
  if (migrate.status !== 0) throw new Error(`migrations failed:\n${migrate.stderr}`);

  const children = new ChildRegistry();
  const bench = { logTails: () => children.logTails(), cleanup: () => children.stopAll() };
  await runProcessBench(bench, 600, async () => {
    const port = await freePort();
    const api = children.start('api', path.join(root, 'dist/src/main.js'), { ...env, PORT: String(port) }, port, path.join(tmpdir(), 'upload-memory-api.log'));
    await waitReady(api, '/health/ready', 60000);
    const pid = api.child.pid as number;

    // A small upload first, so lazily loaded code is in memory before the baseline.
    const warm = await upload(api.url, 'warm-up.md', 64 * 1024);
    if (warm.status !== 202) throw new Error(`warm-up upload answered ${warm.status}: ${warm.body}`);
    await sleep(500);
    const baseline = memoryOf(pid);

    let peakRss = baseline.rss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, memoryOf(pid).rss)), 20);
    const started = Date.now();
    const res = await upload(api.url, 'large.md', megabytes * MB);
    const seconds = (Date.now() - started) / 1000;
    clearInterval(sampler);
    const after = memoryOf(pid);
    if (res.status !== 202) throw new Error(`upload answered ${res.status}: ${res.body}`);

    console.log(`upload of ${megabytes} MB: ${res.status} in ${seconds.toFixed(1)} s (${(megabytes / seconds).toFixed(1)} MB/s)`);
    console.log(`API process RSS: before ${(baseline.rss / MB).toFixed(0)} MB, peak during the upload ${(peakRss / MB).toFixed(0)} MB (+${((peakRss - baseline.rss) / MB).toFixed(0)} MB), after ${(after.rss / MB).toFixed(0)} MB; VmHWM ${(after.hwm / MB).toFixed(0)} MB`);

    for (const body of [warm.body, res.body]) {
      const id = (JSON.parse(body) as { id: string }).id;
      await fetch(`${api.url}/v1/documents/${id}`, { method: 'DELETE' });
    }
    const queue = new Queue(INGEST_QUEUE, { connection: redisOptions(loadConfig(env).redis), prefix: env.QUEUE_PREFIX });
    await queue.obliterate({ force: true });
    await queue.close();
  });
}

void main();
