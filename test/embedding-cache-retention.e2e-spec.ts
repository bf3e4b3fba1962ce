import { randomUUID } from 'node:crypto';
import { DataSource, QueryRunner } from 'typeorm';
import { loadConfig } from '../src/config/app-config';
import { createDataSource } from '../src/database/data-source';
import { EmbeddingCache } from '../src/embedding/embedding-cache';
import { EmbeddingCachePruner, PRUNE_LOCK_KEY, pruneEmbeddingCache } from '../src/embedding/worker/embedding-cache-pruner';
import { startApp } from './support/test-app';

const DIM = 4;
const VECTOR = [0.5, 0.25, 0.125, 1];

// Pruning works on the whole table, so every test starts from an empty one. Integration
// specs run one file at a time (--runInBand), so no other file's rows are lost mid-test.
let db: DataSource;
let cache: EmbeddingCache;

beforeAll(async () => {
  db = createDataSource(loadConfig());
  await db.initialize();
  cache = new EmbeddingCache(db);
});
afterAll(async () => {
  await db.destroy();
});
beforeEach(async () => {
  await db.query('TRUNCATE embedding_cache');
});

interface Seed {
  /** Hours since the entry was last used. */
  usedHoursAgo: number;
  /** Hours since it was stored (default: when it was last used). */
  createdHoursAgo?: number;
}

/** Stores one entry per seed, under `model`, with the given ages; returns their texts in seed order. */
async function seed(model: string, seeds: Seed[]): Promise<string[]> {
  const texts = seeds.map((_, i) => `${model} text ${i}`);
  await cache.store(model, DIM, texts, texts.map(() => VECTOR));
  await db.query(
    `UPDATE embedding_cache c
        SET last_used_at = now() - make_interval(hours => u.used), created_at = now() - make_interval(hours => u.created)
       FROM unnest($2::text[], $3::int[], $4::int[]) AS u(key, used, created)
      WHERE c.model = $1 AND c.text_sha256 = sha256(convert_to(u.key, 'UTF8'))`,
    [model, texts, seeds.map((s) => s.usedHoursAgo), seeds.map((s) => s.createdHoursAgo ?? s.usedHoursAgo)],
  );
  return texts;
}

/** Texts of `model` still cached, in the order given (read without marking them used). */
async function present(model: string, texts: string[]): Promise<string[]> {
  const rows = (await db.query(
    `SELECT u.key FROM unnest($2::text[]) WITH ORDINALITY AS u(key, i)
      WHERE EXISTS (SELECT 1 FROM embedding_cache c WHERE c.model = $1 AND c.text_sha256 = sha256(convert_to(u.key, 'UTF8')))
      ORDER BY u.i`,
    [model, texts],
  )) as Array<{ key: string }>;
  return rows.map((r) => r.key);
}

async function rowCount(): Promise<number> {
  const [{ n }] = (await db.query('SELECT count(*)::int AS n FROM embedding_cache')) as Array<{ n: number }>;
  return n;
}

interface RowState {
  text: string;
  lastUsedAt: Date;
  xmin: string;
}

async function rowStates(model: string, texts: string[]): Promise<RowState[]> {
  const rows = (await db.query(
    `SELECT u.key AS text, c.last_used_at, c.xmin::text AS xmin
       FROM unnest($2::text[]) WITH ORDINALITY AS u(key, i)
       JOIN embedding_cache c ON c.model = $1 AND c.text_sha256 = sha256(convert_to(u.key, 'UTF8'))
      ORDER BY u.i`,
    [model, texts],
  )) as Array<{ text: string; last_used_at: Date; xmin: string }>;
  return rows.map((r) => ({ text: r.text, lastUsedAt: r.last_used_at, xmin: r.xmin }));
}

/** A transaction on its own connection holding `FOR UPDATE` on one entry until `release`. */
async function holdRow(model: string, text: string): Promise<{ release(): Promise<void> }> {
  const runner: QueryRunner = db.createQueryRunner();
  await runner.startTransaction();
  await runner.query(
    `SELECT 1 FROM embedding_cache WHERE model = $1 AND text_sha256 = sha256(convert_to($2, 'UTF8')) FOR UPDATE`,
    [model, text],
  );
  return {
    release: async () => {
      await runner.commitTransaction();
      await runner.release();
    },
  };
}

describe('embedding cache: marking entries used', () => {
  it('marks hits not used for an hour as used now, all in one UPDATE; recent hits are not written', async () => {
    const model = `touch-${randomUUID()}`;
    const [stale1, stale2, recent] = await seed(model, [
      { usedHoursAgo: 2, createdHoursAgo: 72 },
      { usedHoursAgo: 50, createdHoursAgo: 72 },
      { usedHoursAgo: 0, createdHoursAgo: 72 },
    ]);
    const before = await rowStates(model, [stale1, stale2, recent]);

    const hits = await cache.lookup(model, DIM, [stale1, 'never stored', stale2, recent]);
    expect(hits.map((h) => h !== undefined)).toEqual([true, false, true, true]);

    const after = await rowStates(model, [stale1, stale2, recent]);
    const [{ now }] = (await db.query('SELECT now() AS now')) as Array<{ now: Date }>;
    for (const i of [0, 1]) {
      expect(now.getTime() - after[i].lastUsedAt.getTime()).toBeLessThan(60_000);
      expect(after[i].xmin).not.toBe(before[i].xmin);
    }
    // Both written by the same transaction: one statement for the whole lookup.
    expect(after[0].xmin).toBe(after[1].xmin);
    // The entry used minutes ago was not rewritten.
    expect(after[2]).toEqual(before[2]);

    // A second lookup finds them all fresh and writes nothing.
    await cache.lookup(model, DIM, [stale1, stale2, recent]);
    expect(await rowStates(model, [stale1, stale2, recent])).toEqual(after);
  });

  it('does not wait for an entry another transaction holds: the hit is served, its mark skipped', async () => {
    const model = `touch-locked-${randomUUID()}`;
    const [held, free] = await seed(model, [{ usedHoursAgo: 5 }, { usedHoursAgo: 5 }]);
    const before = await rowStates(model, [held, free]);
    const lock = await holdRow(model, held);
    try {
      // Would hang (and time out) if the mark waited for the row lock.
      const hits = await cache.lookup(model, DIM, [held, free]);
      expect(hits.every((h) => h !== undefined)).toBe(true);
    } finally {
      await lock.release();
    }
    const after = await rowStates(model, [held, free]);
    expect(after[0]).toEqual(before[0]);
    expect(after[1].lastUsedAt.getTime()).toBeGreaterThan(before[1].lastUsedAt.getTime());
  }, 20000);
});

describe('embedding cache pruning', () => {
  const limits = (o: Partial<{ maxRows: number; ttlDays: number; pruneBatchSize: number }>) => ({
    maxRows: 0,
    ttlDays: 0,
    pruneBatchSize: 1000,
    ...o,
  });

  /** Runs one pass on one session, as the pruner does. */
  async function prune(l: ReturnType<typeof limits>, shouldStop?: () => boolean) {
    const runner = db.createQueryRunner();
    try {
      return await pruneEmbeddingCache(runner, l, shouldStop);
    } finally {
      await runner.release();
    }
  }

  it('deletes entries unused for longer than the TTL, in batches, and keeps the rest', async () => {
    const model = `ttl-${randomUUID()}`;
    const old = await seed(model, Array.from({ length: 30 }, (_, i) => ({ usedHoursAgo: 40 * 24 + i, createdHoursAgo: 90 * 24 })));
    const young = await seed(`${model}-young`, Array.from({ length: 20 }, (_, i) => ({ usedHoursAgo: 20 * 24 + i, createdHoursAgo: 90 * 24 })));

    const report = await prune(limits({ ttlDays: 30, pruneBatchSize: 7 }));

    expect(report).toMatchObject({ expired: 30, evicted: 0, interrupted: false });
    expect(report.batches).toBeGreaterThanOrEqual(5); // 30 rows, 7 per statement
    expect(await present(model, old)).toEqual([]);
    expect(await present(`${model}-young`, young)).toEqual(young);
  });

  it('beyond the row cap deletes the least recently used first (ties: the oldest stored first)', async () => {
    const model = `cap-${randomUUID()}`;
    // 30 entries used 1..30 hours ago, and 10 used 100 hours ago stored at 10 different times.
    const recent = await seed(model, Array.from({ length: 30 }, (_, i) => ({ usedHoursAgo: i + 1 })));
    const tied = await seed(
      `${model}-tied`,
      Array.from({ length: 10 }, (_, i) => ({ usedHoursAgo: 100, createdHoursAgo: 200 - i })),
    );

    const report = await prune(limits({ maxRows: 34, pruneBatchSize: 4 }));

    expect(report).toMatchObject({ expired: 0, evicted: 6 });
    expect(await rowCount()).toBe(34);
    expect(await present(model, recent)).toEqual(recent);
    // The 6 tied entries stored first went; the 4 stored last stay.
    expect(await present(`${model}-tied`, tied)).toEqual(tied.slice(6));
  });

  it('applies both limits in one pass; an old entry that was just used survives both', async () => {
    const model = `both-${randomUUID()}`;
    const texts = await seed(
      model,
      Array.from({ length: 40 }, (_, i) => ({ usedHoursAgo: i < 10 ? 45 * 24 : 24 + i, createdHoursAgo: 365 * 24 })),
    );
    const [stored100DaysAgo] = await seed(`${model}-reused`, [{ usedHoursAgo: 100 * 24 }]);
    await cache.lookup(`${model}-reused`, DIM, [stored100DaysAgo]); // marks it used now

    const report = await prune(limits({ ttlDays: 30, maxRows: 21, pruneBatchSize: 3 }));

    // 10 expired; of the 31 left, the 10 least recently used go to meet the cap of 21.
    expect(report).toMatchObject({ expired: 10, evicted: 10 });
    expect(await present(`${model}-reused`, [stored100DaysAgo])).toEqual([stored100DaysAgo]);
    expect(await present(model, texts)).toEqual(texts.slice(10, 30));
  });

  it('skips an entry another transaction holds instead of waiting, and takes it on the next pass', async () => {
    const model = `prune-locked-${randomUUID()}`;
    const texts = await seed(model, Array.from({ length: 5 }, () => ({ usedHoursAgo: 40 * 24 })));
    const lock = await holdRow(model, texts[2]);
    try {
      // Would hang (and time out) if a DELETE waited for the row lock.
      const report = await prune(limits({ ttlDays: 30, pruneBatchSize: 2 }));
      expect(report.expired).toBe(4);
    } finally {
      await lock.release();
    }
    expect(await present(model, texts)).toEqual([texts[2]]);
    expect((await prune(limits({ ttlDays: 30 }))).expired).toBe(1);
    expect(await rowCount()).toBe(0);
  }, 20000);

  it('with both limits off deletes nothing', async () => {
    const model = `unbounded-${randomUUID()}`;
    await seed(model, Array.from({ length: 12 }, (_, i) => ({ usedHoursAgo: 10000 + i })));
    const report = await prune(limits({ maxRows: 0, ttlDays: 0 }));
    expect(report).toMatchObject({ expired: 0, evicted: 0, batches: 0 });
    expect(await rowCount()).toBe(12);
  });

  it('stops between batches when asked (shutdown)', async () => {
    const model = `stop-${randomUUID()}`;
    await seed(model, Array.from({ length: 20 }, () => ({ usedHoursAgo: 40 * 24 })));
    let asked = 0;
    const report = await prune(limits({ ttlDays: 30, maxRows: 1, pruneBatchSize: 5 }), () => ++asked > 2);
    expect(report).toMatchObject({ expired: 10, evicted: 0, batches: 2, interrupted: true });
    expect(await rowCount()).toBe(10);
  });
});

describe('embedding cache pruner (one process at a time)', () => {
  const config = (env: Record<string, string>) => loadConfig({ ...process.env, ...env });

  it('skips the pass while another process holds the pruning lock, and runs once it is free', async () => {
    const model = `elected-${randomUUID()}`;
    await seed(model, Array.from({ length: 8 }, (_, i) => ({ usedHoursAgo: i })));
    const pruner = new EmbeddingCachePruner(db, config({ EMBEDDING_CACHE_MAX_ROWS: '3', EMBEDDING_CACHE_TTL_DAYS: '0' }));

    const other = db.createQueryRunner();
    try {
      await other.query('SELECT pg_advisory_lock($1)', [PRUNE_LOCK_KEY]);
      expect(await pruner.runIfElected()).toBeNull();
      expect(await rowCount()).toBe(8);
      await other.query('SELECT pg_advisory_unlock($1)', [PRUNE_LOCK_KEY]);
    } finally {
      await other.release();
    }

    expect(await pruner.runIfElected()).toMatchObject({ evicted: 5 });
    expect(await rowCount()).toBe(3);
    // The lock was released: another session can take it.
    const [{ locked }] = (await db.query(
      'SELECT pg_try_advisory_lock($1) AS locked, pg_advisory_unlock($1)',
      [PRUNE_LOCK_KEY],
    )) as Array<{ locked: boolean }>;
    expect(locked).toBe(true);
  });

  it('a worker process prunes on its own every EMBEDDING_CACHE_PRUNE_INTERVAL_MS', async () => {
    const model = `worker-${randomUUID()}`;
    await seed(model, Array.from({ length: 25 }, (_, i) => ({ usedHoursAgo: i })));
    const t = await startApp(
      { EMBEDDING_CACHE_MAX_ROWS: '10', EMBEDDING_CACHE_TTL_DAYS: '0', EMBEDDING_CACHE_PRUNE_INTERVAL_MS: '1000' },
      { api: false, worker: true },
    );
    try {
      const deadline = Date.now() + 30000;
      while ((await rowCount()) > 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await rowCount()).toBe(10);
    } finally {
      await t.close();
    }
  });
});
