import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Generation, GenerationChangedError } from './generation';

/** Any value that is the same in every process of the deployment: serialises generation changes. */
const GENERATIONS_LOCK = 7_350_517_001;
/** Taken shared by every reader and writer of a generation's chunks, exclusively by the switch and the cancel. */
export const HOLD_LOCK = 7_350_517_003;

/**
 * The two locks that keep searches and writes consistent across a change of generation.
 * Changes (start, switch, cancel) are serialised by one advisory lock (`locked`). Every
 * reader or writer of a generation's chunks takes another one shared (`hold`), which the
 * switch and the cancel take exclusively (`excludeHolders`), so they wait for those in
 * flight and none straddles them.
 */
@Injectable()
export class GenerationLock {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Runs `work` in a transaction holding the deployment-wide generations lock. */
  locked<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(async (em) => {
      await em.query('SELECT pg_advisory_xact_lock($1)', [GENERATIONS_LOCK]);
      return work(em);
    });
  }

  /**
   * Inside a reader's or writer's transaction: checks that `generation` still has the
   * status it was read with, and keeps it so until the transaction ends. Throws
   * `GenerationChangedError` otherwise. A shared advisory lock, not a row lock: a search
   * stays a read-only transaction, and the switch waits for every holder without being
   * overtaken by new ones. `before`: statements without parameters (such as SET LOCAL) sent
   * in the same round trip as the lock, ahead of it.
   */
  async hold(em: EntityManager, generation: Pick<Generation, 'id' | 'status'>, before: string[] = []): Promise<void> {
    // A query without parameters may hold several statements; the lock's key is a constant.
    await em.query([...before, `SELECT pg_advisory_xact_lock_shared(${HOLD_LOCK})`].join('; '));
    const rows: unknown[] = await em.query(`SELECT 1 FROM embedding_generations WHERE id = $1 AND status = $2`, [
      generation.id,
      generation.status,
    ]);
    if (rows.length === 0) throw new GenerationChangedError(generation.id);
  }

  /**
   * Waits until no transaction holds a generation, and keeps new holders waiting until
   * this transaction ends. Advisory locks queue in the order asked, so a stream of
   * overlapping searches cannot keep the switch waiting (share row locks could).
   */
  async excludeHolders(em: EntityManager): Promise<void> {
    await em.query('SELECT pg_advisory_xact_lock($1)', [HOLD_LOCK]);
  }
}
