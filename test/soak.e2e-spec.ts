import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SOAK_ENV, formatSoak, runSoak, soakProblems } from '../bench/soak/soak';
import { ownDatabase } from './support/own-database';

// The short soak: the compiled service (npm test builds it first) as real processes under a
// steady mixed load for SOAK_MINUTES (3 by default; `node dist/bench/soak/soak.js` runs 30),
// workers SIGKILLed and Redis restarted empty at random, a faulty upstream throughout. The
// Postgres restart of the long soak is left out here: it restarts the server every suite shares.
const distDir = join(__dirname, '..', 'dist');
const minutes = Number(process.env.SOAK_MINUTES ?? 3);

describe(`soak (${minutes} min): nothing lost, duplicated or left behind, nothing grows`, () => {
  beforeAll(() => {
    if (!existsSync(join(distDir, 'src/worker.js'))) throw new Error('dist/ is missing: run `npm run build` (npm test does)');
  });

  it('keeps every document as the client last left it, with memory and connections flat', async () => {
    const r = await runSoak({
      durationMs: minutes * 60000,
      faultEveryMs: 30000,
      faults: ['kill', 'redis', 'upstream'],
      opsPerSecond: 8,
      sampleEveryMs: 5000,
      docSize: 2000,
      chaos: {
        distDir,
        db: { host: '127.0.0.1', port: 5432, user: 'postgres', database: ownDatabase('ingest_test_soak').name },
        logDir: '/tmp/ingest-soak-test-logs',
        workers: 2,
        env: SOAK_ENV,
        chunkSize: 500,
        chunkOverlap: 50,
      },
    });
    console.log(formatSoak(r));
    expect(r.ops.post).toBeGreaterThan(100);
    expect(Object.values(r.faults).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(2);
    expect(soakProblems(r)).toEqual([]);
  }, (minutes + 12) * 60000);
});
