import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { EmbeddingSpec } from '../../embedding/embedding-spec';
import { ChunkTables } from './chunk-tables';
import { Generation } from './generation';
import { GenerationLock } from './generation-lock';
import { GenerationRepository } from './generation.repository';
import { ReindexCoverage } from './reindex-coverage.repository';

export type SwitchOutcome = 'switched' | 'incomplete' | 'unindexed' | 'gone';

/**
 * The changes of generation, each in one transaction under the generations lock: start
 * a re-embed (a building generation and its empty table), switch to it atomically once
 * it holds every document the switch needs, or cancel it.
 */
@Injectable()
export class GenerationSwitch {
  constructor(
    private readonly lock: GenerationLock,
    private readonly rows: GenerationRepository,
    private readonly tables: ChunkTables,
    private readonly coverage: ReindexCoverage,
  ) {}

  /** Inside `GenerationLock.locked`: records a building generation for `spec` and creates its empty table. */
  async startBuilding(em: EntityManager, spec: EmbeddingSpec, active: Generation): Promise<Generation> {
    await this.tables.createNext(em, spec.dimension);
    return this.rows.createBuilding(em, spec, active.id);
  }

  /**
   * Makes the building generation active if it holds every document the switch needs and
   * its indexes are built: once every holder of a generation has finished, drops the old
   * `chunks` and renames `chunks_next` in its place. Anything else leaves both as they were.
   */
  trySwitch(buildingId: number): Promise<SwitchOutcome> {
    return this.lock.locked(async (em) => {
      const { active, building } = await this.rows.current(em);
      if (!active || !building || building.id !== buildingId) return 'gone';
      // Checked before excluding holders too: a pass that cannot switch must not make searches wait.
      if (await this.coverage.anyMissing(em, building.id)) return 'incomplete';
      if (!(await this.tables.nextIndexesReady(em))) return 'unindexed';
      await this.lock.excludeHolders(em);
      if (await this.coverage.anyMissing(em, building.id)) return 'incomplete';
      await this.tables.promoteNext(em);
      await this.rows.promote(em, active.id, building.id);
      await this.coverage.forget(em, building.id);
      return 'switched';
    });
  }

  /** Inside `GenerationLock.locked`: abandons the building generation and drops what it built. */
  async cancel(em: EntityManager, building: Generation): Promise<void> {
    await this.tables.stopIndexBuild(em);
    await this.lock.excludeHolders(em);
    await this.tables.dropNext(em);
    await this.rows.markCancelled(em, building.id);
    await this.coverage.forget(em, building.id);
  }
}
