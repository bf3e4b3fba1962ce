import { fuzzPassed, formatFuzzResult, runFuzz } from '../bench/fuzz/fuzz-run';
import { ownDatabase } from './support/own-database';
import { TestApp, startApp } from './support/test-app';

// The reduced fuzz suite; `npm run fuzz -- --seed N --requests M` runs the full one.
// FUZZ_SEED reproduces a run; otherwise each run tries a new seed.
const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const REQUESTS_PER_FAMILY = Number(process.env.FUZZ_REQUESTS ?? 100);
const BODY_LIMIT = 64 * 1024;

describe('fuzz: generated hostile requests to every route family', () => {
  const db = ownDatabase('ingest_test_fuzz');
  let t: TestApp;

  beforeAll(async () => {
    await db.freshMigrated();
    t = await startApp({ DATABASE_URL: db.url, BODY_LIMIT_BYTES: String(BODY_LIMIT), CHUNK_UNIT: 'chars' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it(`answers every request with no 5xx, stays ready and loses nothing (seed ${seed})`, async () => {
    const result = await runFuzz({ baseUrl: t.url, seed, requestsPerFamily: REQUESTS_PER_FAMILY, concurrency: 1, bodyLimitBytes: BODY_LIMIT, maxTopK: t.config.search.maxTopK });
    const report = formatFuzzResult(result);
    console.log(report);
    if (!fuzzPassed(result)) throw new Error(`fuzz failed; reproduce with FUZZ_SEED=${seed} or npm run fuzz -- --seed ${seed}\n${report}`);
    expect((await fetch(`${t.url}/health/live`)).status).toBe(200);
  });
});
