import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CHAOS_ENV } from '../bench/chaos/chaos';
import { ChaosOptions, ChaosResult, formatResult } from '../bench/chaos/chaos-harness';
import { withFaultyUpstream } from '../bench/chaos/faulty-upstream';
import { ScenarioSize, faultyEmbeddings, killWorkers, loseRedis } from '../bench/chaos/scenarios';

// The reduced chaos suite: the compiled service (npm test builds it first) as real
// processes, an API and two workers, against Postgres and a private Redis.
const distDir = join(__dirname, '..', 'dist');
const options: ChaosOptions = {
  distDir,
  db: { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'ingest_chaos_test' },
  logDir: '/tmp/ingest-chaos-test-logs',
  workers: 2,
  env: CHAOS_ENV,
  chunkSize: 500,
  chunkOverlap: 50,
};
const size: ScenarioSize = { docs: 150, docSize: 1500, settleTimeoutMs: 120000 };

function expectCorrect(r: ChaosResult): void {
  console.log(formatResult(r));
  expect(r.accepted).toBe(size.docs);
  expect(r.lost).toBe(0);
  expect(r.duplicateChunks).toBe(0);
  expect(r.wrongChunkCount).toBe(0);
  expect(r.failed).toBe(r.expectedFailed);
  expect(r.deadLetters).toBe(r.failed);
  expect(r.deadLetterJobs).toBe(r.failed);
  expect(r.ready + r.failed).toBe(r.accepted);
}

describe('chaos (reduced): every accepted document reaches a correct final state', () => {
  beforeAll(() => {
    if (!existsSync(join(distDir, 'src/worker.js'))) throw new Error('dist/ is missing: run `npm run build` (npm test does)');
  });

  it('survives workers SIGKILLed five times mid-run', async () => {
    expectCorrect(await killWorkers(options, size));
  }, 300000);

  it('survives Redis restarting empty with documents in flight', async () => {
    expectCorrect(await loseRedis(options, size));
  }, 300000);

  it('survives an embedding upstream failing 30% of calls and rejecting some documents for good', async () => {
    const r = await withFaultyUpstream((env) => faultyEmbeddings({ ...options, env: { ...options.env, ...env } }, size));
    expect(r.expectedFailed).toBeGreaterThan(0);
    expectCorrect(r);
  }, 300000);
});
