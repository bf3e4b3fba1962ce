import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { createApp } from '../../src/bootstrap';
import { loadConfig } from '../../src/config/app-config';
import { createDataSource } from '../../src/database/data-source';
import { formatFuzzResult, fuzzPassed, runFuzz } from './fuzz-run';

/**
 * The full fuzz suite: `npm run fuzz -- --seed N --requests M [--concurrency C]`. Starts
 * the service (API + worker, `hash` embeddings) on a fresh database of its own, named
 * after DATABASE_URL's with `_fuzz` appended, sends M generated requests per route
 * family, prints the status codes seen, and exits 1 if any request got a 5xx or no
 * answer, the service was not ready afterwards, or an accepted document was lost.
 */
function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a whole number`);
  return value;
}

async function freshDatabase(baseUrl: string): Promise<string> {
  const url = new URL(baseUrl);
  const name = `${decodeURIComponent(url.pathname.slice(1)) || 'ingest'}_fuzz`;
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unsafe database name ${name}`);
  const admin = new Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  url.pathname = `/${name}`;
  return url.toString();
}

async function main(): Promise<void> {
  const seed = arg('seed', Math.floor(Math.random() * 2 ** 31));
  const requests = arg('requests', 1000);
  const concurrency = Math.max(1, arg('concurrency', 1));
  const bodyLimitBytes = 64 * 1024;
  const databaseUrl = await freshDatabase(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/ingest');
  const env = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    EMBEDDING_PROVIDER: 'hash',
    EMBEDDING_DIMENSION: '384',
    CHUNK_UNIT: 'chars',
    BODY_LIMIT_BYTES: String(bodyLimitBytes),
    QUEUE_PREFIX: `fuzz-${randomUUID().slice(0, 8)}`,
  };
  const config = loadConfig(env);
  const migrations = createDataSource(config);
  await migrations.initialize();
  await migrations.runMigrations({ transaction: 'each' });
  await migrations.destroy();

  const app = await createApp(config, { api: true, worker: true });
  app.useLogger(['error']);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  console.log(`fuzz: seed ${seed}, ${requests} requests per route family, concurrency ${concurrency}, database ${databaseUrl}`);
  try {
    const result = await runFuzz({ baseUrl: `http://127.0.0.1:${port}`, seed, requestsPerFamily: requests, concurrency, bodyLimitBytes, maxTopK: config.search.maxTopK });
    console.log(formatFuzzResult(result));
    if (!fuzzPassed(result)) {
      console.log(`FAILED: reproduce with npm run fuzz -- --seed ${seed} --requests ${requests}`);
      process.exitCode = 1;
    }
  } finally {
    await app.close();
  }
}

main().catch((err: unknown) => {
  new Logger('Fuzz').error(err instanceof Error ? err.stack : String(err));
  process.exit(1);
});
