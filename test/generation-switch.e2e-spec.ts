import { DataSource } from 'typeorm';
import { loadConfig } from '../src/config/app-config';
import { createDataSource } from '../src/database/data-source';
import { ChunkTables } from '../src/vector-store/generations/chunk-tables';
import { Generation } from '../src/vector-store/generations/generation';
import { GenerationLock } from '../src/vector-store/generations/generation-lock';
import { GenerationRepository } from '../src/vector-store/generations/generation.repository';
import { GenerationSwitch } from '../src/vector-store/generations/generation-switch';
import { ReindexCoverage } from '../src/vector-store/generations/reindex-coverage.repository';
import { ownDatabase } from './support/own-database';

/** A database of its own: the test makes and switches generations. */
const database = ownDatabase('ingest_test_generation_switch');
const DATABASE_URL = database.url;

const OLD = { provider: 'hash' as const, modelId: 'hash:fnv1a-uni-bigram-384', dimension: 384 };
const NEW = { provider: 'hash' as const, modelId: 'hash:fnv1a-uni-bigram-256', dimension: 256 };

const sleep = (ms: number): Promise<null> => new Promise((r) => setTimeout(() => r(null), ms));

/**
 * Readers (searches) or writers of `generation` that always overlap, as under steady
 * traffic: each transaction holds it until the next one does, so it is never free. A
 * holder lets go before the next one holds only once that one is seen waiting for a
 * lock (a generation change waits first).
 */
function relayHolders(ds: DataSource, lock: GenerationLock, generation: Generation) {
  let running = true;
  let held = 0;
  const heldWaiters: Array<() => void> = [];
  const transactions: Array<Promise<unknown>> = [];
  const take = (): { acquired: Promise<boolean>; pid: Promise<number>; release: () => void } => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let acquired!: (ok: boolean) => void;
    const result = new Promise<boolean>((r) => (acquired = r));
    let started!: (pid: number) => void;
    const pid = new Promise<number>((r) => (started = r));
    transactions.push(
      ds.transaction(async (em) => {
        started(((await em.query('SELECT pg_backend_pid() AS pid')) as Array<{ pid: number }>)[0].pid);
        const ok = await lock.hold(em, generation).then(() => true, () => false);
        acquired(ok);
        if (ok) {
          held++;
          for (const wake of heldWaiters.splice(0)) wake();
          await released;
        }
      }),
    );
    return { acquired: result, pid, release };
  };
  /** Resolves (with null) once session `pid` waits for a lock; stops looking once `acquired` settles. */
  const waitsForLock = async (pid: Promise<number>, acquired: Promise<boolean>): Promise<null> => {
    let settled = false;
    void acquired.then(() => (settled = true));
    const id = await pid;
    while (!settled) {
      const rows = (await ds.query(`SELECT wait_event_type = 'Lock' AS waiting FROM pg_stat_activity WHERE pid = $1`, [id])) as Array<{
        waiting: boolean | null;
      }>;
      if (rows[0]?.waiting) return null;
      await sleep(5);
    }
    return null;
  };
  const relay = (async () => {
    let current = take();
    if (!(await current.acquired)) return;
    while (running) {
      // The holder's own work (a search, a write).
      await sleep(20);
      const next = take();
      const joined = await Promise.race([next.acquired, waitsForLock(next.pid, next.acquired)]);
      current.release();
      if (!(joined ?? (await next.acquired))) running = false;
      current = next;
    }
    current.release();
  })();
  return {
    /** Resolves once `n` transactions have held the generation, each overlapping the next. */
    holding: (n: number): Promise<void> =>
      Promise.race([
        new Promise<void>((resolve) => {
          const check = (): void => void (held >= n ? resolve() : heldWaiters.push(check));
          check();
        }),
        relay.then(() => {
          throw new Error(`the holders stopped after ${held} of ${n}`);
        }),
      ]),
    /** Stops relaying; resolves with how many transactions held the generation. */
    stop: async (): Promise<number> => {
      running = false;
      await relay;
      await Promise.all(transactions);
      return held;
    },
  };
}

describe('changing generations while their holders keep overlapping', () => {
  let ds: DataSource;
  let lock: GenerationLock;
  let rows: GenerationRepository;
  let tables: ChunkTables;
  let switches: GenerationSwitch;

  beforeEach(async () => {
    await database.fresh();
    ds = createDataSource(loadConfig({ ...process.env, DATABASE_URL, EMBEDDING_PROVIDER: 'hash', EMBEDDING_DIMENSION: '384' }));
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
    lock = new GenerationLock(ds);
    rows = new GenerationRepository(ds);
    tables = new ChunkTables(ds);
    switches = new GenerationSwitch(lock, rows, tables, new ReindexCoverage(ds));
  });

  afterEach(async () => {
    await ds?.destroy();
  });

  // Unless new holders queue behind a waiting change (a share row lock would join the
  // row's share lockers even while a FOR UPDATE waits), the change waits until its
  // statement times out.
  it('switches even though searches hold the active generation without a gap', async () => {
    const active = await lock.locked((em) => rows.createActive(em, OLD));
    const building = await lock.locked((em) => switches.startBuilding(em, NEW, active));
    expect(await tables.buildNextIndexes('64MB')).toBe(true);
    const searches = relayHolders(ds, lock, active);
    await searches.holding(4);

    const outcome = await switches.trySwitch(building.id).finally(() => searches.stop());
    const held = await searches.stop();

    expect(outcome).toBe('switched');
    expect(held).toBeGreaterThan(3);
    const { active: now } = await rows.current();
    expect(now?.id).toBe(building.id);
  });

  it('cancels even though writers hold the building generation without a gap', async () => {
    const active = await lock.locked((em) => rows.createActive(em, OLD));
    const building = await lock.locked((em) => switches.startBuilding(em, NEW, active));
    const writers = relayHolders(ds, lock, building);
    await writers.holding(4);

    await lock.locked((em) => switches.cancel(em, building)).finally(() => writers.stop());
    const held = await writers.stop();

    expect(held).toBeGreaterThan(3);
    expect((await rows.findById(building.id))?.status).toBe('cancelled');
    expect((await ds.query(`SELECT to_regclass('chunks_next') AS t`))[0].t).toBeNull();
  });
});
