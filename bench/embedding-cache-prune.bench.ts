/**
 * How fast the embedding cache pruner deletes, and how long it holds row locks, against
 * one plain DELETE per limit as the baseline, on the same data in the same run.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/embedding-cache-prune.bench.js
 *       [--rows 200000] [--dimension 384] [--batches 1000,5000,20000] [--ttl-days 30]
 *       [--max-rows 50000] [--db ingest_bench_cache]
 *
 * Each variant starts from the same cache: `--rows` entries of `--dimension` random
 * vectors, last used uniformly over the past 60 days, so a 30-day TTL expires about half
 * and the row cap evicts the least recently used of the rest. Meanwhile a second
 * connection keeps storing entries (INSERT … ON CONFLICT DO NOTHING, as the workers do)
 * for keys that are being pruned: such a store waits until the DELETE holding that row
 * commits, so its worst latency shows what a long DELETE costs the service.
 *
 * Then again while another session holds an old snapshot (a REPEATABLE READ transaction
 * opened before pruning, as pg_dump or a long report does): deleted rows' index entries
 * cannot be cleaned up meanwhile, which is what the pruner's keyset position is for.
 */
import { Client } from 'pg';
import { loadConfig } from '../src/config/app-config';
import { pruneEmbeddingCache } from '../src/embedding/worker/embedding-cache-pruner';
import { BenchDbTarget, databaseUrl, ensureBenchDatabase } from './support/bench-db';
import { intFlag } from './support/bench-main';

interface Options {
  rows: number;
  dimension: number;
  batches: number[];
  ttlDays: number;
  maxRows: number;
  db: string;
}

interface Outcome {
  name: string;
  deleted: number;
  seconds: number;
  statements: number;
  longestStatementMs: number;
  /** Concurrent stores of pruned keys: how many, their worst and 99th-percentile latency. */
  stores: number;
  storeMaxMs: number;
  storeP99Ms: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { rows: 200000, dimension: 384, batches: [1000, 5000, 20000], ttlDays: 30, maxRows: 50000, db: 'ingest_bench_cache' };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, v] = [argv[i], argv[i + 1]];
    switch (flag) {
      case '--rows': o.rows = intFlag(flag, v, 1); break;
      case '--dimension': o.dimension = intFlag(flag, v, 1); break;
      case '--batches': o.batches = String(v).split(',').map((b) => intFlag(flag, b, 1)); break;
      case '--ttl-days': o.ttlDays = intFlag(flag, v, 0); break;
      case '--max-rows': o.maxRows = intFlag(flag, v, 0); break;
      case '--db': o.db = String(v); break;
      default: throw new Error(`unknown argument ${flag}`);
    }
  }
  return o;
}

/** Fills the cache afresh: the same rows (seeded) for every variant. */
async function fill(db: Client, o: Options): Promise<void> {
  await db.query('TRUNCATE embedding_cache');
  await db.query('SELECT setseed(0.42)');
  // 1000 distinct random vectors, reused: each row still stores a full vector.
  await db.query('DROP TABLE IF EXISTS bench_vectors');
  await db.query(
    `CREATE UNLOGGED TABLE bench_vectors AS
       SELECT v.i, (SELECT array_agg(random()::real)::vector FROM generate_series(1, $1) WHERE v.i >= 0) AS embedding
         FROM generate_series(0, 999) AS v(i)`,
    [o.dimension],
  );
  await db.query(
    `INSERT INTO embedding_cache (model, dimension, text_sha256, embedding, created_at, last_used_at)
     SELECT 'bench', $1, sha256(convert_to('bench ' || g, 'UTF8')), b.embedding,
            u.used - random() * interval '30 days', u.used
       FROM generate_series(1, $2) AS g
       CROSS JOIN LATERAL (SELECT now() - random() * interval '60 days' + g * interval '0 s' AS used) AS u
       JOIN bench_vectors b ON b.i = g % 1000`,
    [o.dimension, o.rows],
  );
  await db.query('VACUUM ANALYZE embedding_cache');
  await db.query('CHECKPOINT');
}

/** Keys (hex) the variant will delete: stored again concurrently to probe lock waits. */
async function doomedKeys(db: Client, o: Options): Promise<string[]> {
  const r = await db.query<{ key: string }>(
    `SELECT encode(text_sha256, 'hex') AS key FROM embedding_cache
      WHERE last_used_at < now() - make_interval(days => $1) ORDER BY random() LIMIT 2000`,
    [o.ttlDays],
  );
  return r.rows.map((x) => x.key);
}

/** Stores `keys` one by one on its own connection until `stop()`; returns the latencies. */
function storeLoop(url: string, keys: string[], dimension: number): { stop(): Promise<number[]> } {
  const latencies: number[] = [];
  let stopping = false;
  const vector = `[${Array.from({ length: dimension }, () => '0.5').join(',')}]`;
  const done = (async () => {
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      for (let i = 0; !stopping; i++) {
        const t = performance.now();
        await c.query(
          `INSERT INTO embedding_cache (model, dimension, text_sha256, embedding)
           VALUES ('bench', $1, decode($2, 'hex'), $3::vector) ON CONFLICT DO NOTHING`,
          [dimension, keys[i % keys.length], vector],
        );
        latencies.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 2));
      }
    } finally {
      await c.end();
    }
  })();
  return {
    stop: async () => {
      stopping = true;
      await done;
      return latencies;
    },
  };
}

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const v = await f();
  return [v, performance.now() - t];
}

async function runVariant(url: string, o: Options, batch: number | 'single', holdSnapshot: boolean): Promise<Outcome> {
  const db = new Client({ connectionString: url });
  await db.connect();
  const snapshot = new Client({ connectionString: url });
  try {
    await fill(db, o);
    if (holdSnapshot) {
      await snapshot.connect();
      await snapshot.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await snapshot.query('SELECT count(*) FROM embedding_cache');
    }
    const probe = storeLoop(url, await doomedKeys(db, o), o.dimension);
    await new Promise((r) => setTimeout(r, 200));
    const t0 = performance.now();
    let deleted = 0;
    let statements = 0;
    let longest = 0;
    if (batch === 'single') {
      if (o.ttlDays > 0) {
        const [r, ms] = await timed(() =>
          db.query(`DELETE FROM embedding_cache WHERE last_used_at < now() - make_interval(days => $1)`, [o.ttlDays]),
        );
        deleted += r.rowCount ?? 0;
        statements++;
        longest = Math.max(longest, ms);
      }
      if (o.maxRows > 0) {
        const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM embedding_cache');
        const excess = Number(rows[0].n) - o.maxRows;
        if (excess > 0) {
          const [r, ms] = await timed(() =>
            db.query(
              `DELETE FROM embedding_cache WHERE ctid = ANY (ARRAY(
                 SELECT ctid FROM embedding_cache ORDER BY last_used_at, created_at LIMIT $1))`,
              [excess],
            ),
          );
          deleted += r.rowCount ?? 0;
          statements++;
          longest = Math.max(longest, ms);
        }
      }
    } else {
      const runner = { query: async (sql: string, params?: unknown[]) => (await db.query(sql, params)).rows };
      const report = await pruneEmbeddingCache(runner, { maxRows: o.maxRows, ttlDays: o.ttlDays, pruneBatchSize: batch });
      deleted = report.expired + report.evicted;
      statements = report.batches;
      longest = report.longestBatchMs;
    }
    const seconds = (performance.now() - t0) / 1000;
    const latencies = (await probe.stop()).sort((a, b) => a - b);
    const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM embedding_cache');
    if (o.maxRows > 0 && Number(rows[0].n) > o.maxRows + latencies.length) {
      throw new Error(`${batch}: ${rows[0].n} rows left, cap ${o.maxRows}`);
    }
    return {
      name: batch === 'single' ? 'single DELETE per limit (baseline)' : `pruner, batches of ${batch}`,
      deleted,
      seconds,
      statements,
      longestStatementMs: longest,
      stores: latencies.length,
      storeMaxMs: latencies[latencies.length - 1] ?? NaN,
      storeP99Ms: latencies[Math.max(0, Math.ceil(latencies.length * 0.99) - 1)] ?? NaN,
    };
  } finally {
    if (holdSnapshot) await snapshot.end().catch(() => undefined);
    await db.query('DROP TABLE IF EXISTS bench_vectors').catch(() => undefined);
    await db.end();
  }
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  // The initial migration sizes the chunks table from the environment; this bench never uses it.
  process.env.EMBEDDING_PROVIDER = 'hash';
  process.env.EMBEDDING_DIMENSION = '384';
  const base = loadConfig({ ...process.env }).postgres;
  const target: BenchDbTarget = { host: base.host, port: base.port, user: base.user, database: o.db };
  await ensureBenchDatabase(target, process.env);
  const url = databaseUrl(target);
  console.log(
    `embedding cache pruning: ${o.rows} entries of ${o.dimension} dimensions, last used over 60 days; ` +
      `TTL ${o.ttlDays} days, cap ${o.maxRows}; database ${o.db}`,
  );
  for (const holdSnapshot of [false, true]) {
    console.log(holdSnapshot ? '\nwith another session holding an old snapshot:' : '\nquiet database:');
    const outcomes: Outcome[] = [];
    for (const variant of ['single' as const, ...o.batches]) {
      const out = await runVariant(url, o, variant, holdSnapshot);
      outcomes.push(out);
      console.log(
        `  ${out.name.padEnd(36)} ${String(out.deleted).padStart(7)} rows in ${out.seconds.toFixed(2).padStart(6)} s = ` +
          `${Math.round(out.deleted / out.seconds).toString().padStart(6)} rows/s; ${String(out.statements).padStart(4)} statements, ` +
          `longest ${Math.round(out.longestStatementMs)} ms; concurrent stores of pruned keys: ${out.stores}, ` +
          `p99 ${out.storeP99Ms.toFixed(1)} ms, max ${Math.round(out.storeMaxMs)} ms`,
      );
    }
    const baseline = outcomes[0];
    for (const out of outcomes.slice(1)) {
      console.log(
        `  ${out.name}: ${(out.deleted / out.seconds / (baseline.deleted / baseline.seconds)).toFixed(2)}x the baseline's rows/s, ` +
          `longest lock hold ${(out.longestStatementMs / baseline.longestStatementMs).toFixed(3)}x the baseline's`,
      );
    }
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
