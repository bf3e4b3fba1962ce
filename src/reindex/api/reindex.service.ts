import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { EmbedderRegistry } from '../../embedding/embedder-registry';
import { sameModel } from '../../embedding/embedding-spec';
import { ChunkTables } from '../../vector-store/generations/chunk-tables';
import { Generation, UnindexableDimensionError } from '../../vector-store/generations/generation';
import { GenerationLock } from '../../vector-store/generations/generation-lock';
import { GenerationRepository } from '../../vector-store/generations/generation.repository';
import { GenerationSwitch } from '../../vector-store/generations/generation-switch';
import { LiveGenerations } from '../../vector-store/generations/live-generations';
import { ReindexCoverage, ReindexProgress } from '../../vector-store/generations/reindex-coverage.repository';

export type ReindexState = 'running' | 'complete' | 'cancelled';
/**
 * Where a running re-embed is: copying documents, held up by documents that failed for
 * good (POST /v1/reindex retries them), building the index over them, or about to switch.
 */
export type ReindexPhase = 'copying' | 'blocked' | 'indexing' | 'switching';

/** What `GET /v1/reindex` shows: the generation search answers from, and the latest re-embed. */
export interface ReindexView {
  active: { generation: number; model: string; dimension: number; activatedAt: string | null };
  reindex: {
    generation: number;
    state: ReindexState;
    /** While running. */
    phase: ReindexPhase | null;
    model: string;
    dimension: number;
    /** The generation it replaces (or replaced). */
    previousGeneration: number | null;
    /** Documents done / total while running; null once it ended. */
    documents: ReindexProgress | null;
    startedAt: string;
    finishedAt: string | null;
  } | null;
}

/**
 * Re-embedding every document with the configured model into a new generation, for the
 * API: start (or resume, retrying failed documents), report progress, cancel. Workers
 * do the work (ReindexCoordinator, ReindexProcessor).
 */
@Injectable()
export class ReindexService {
  constructor(
    private readonly lock: GenerationLock,
    private readonly rows: GenerationRepository,
    private readonly coverage: ReindexCoverage,
    private readonly tables: ChunkTables,
    private readonly switches: GenerationSwitch,
    private readonly live: LiveGenerations,
    private readonly embedders: EmbedderRegistry,
  ) {}

  /**
   * Starts a re-embed with this process's configured model, or returns the one running
   * for it (and retries its failed documents). Throws `ConflictException` if a re-embed
   * for another model is running, or the configured model's vectors cannot be indexed.
   */
  async start(): Promise<ReindexView> {
    const wanted = this.embedders.configuredSpec();
    await this.lock.locked(async (em) => {
      const { active, building } = await this.rows.current(em);
      if (!active) throw new Error('no active embedding generation');
      if (building && !sameModel(building, wanted)) {
        throw new ConflictException(
          `a re-embed into ${building.modelId} (${building.dimension} dimensions) is running; ` +
            `DELETE /v1/reindex to cancel it before starting one into ${wanted.modelId}`,
        );
      }
      if (!building) {
        try {
          await this.switches.startBuilding(em, wanted, active);
        } catch (err) {
          // Nothing the request can change: the configured model is the problem.
          if (err instanceof UnindexableDimensionError) throw new ConflictException(err.message);
          throw err;
        }
      }
    });
    const { building } = await this.rows.current();
    if (building) await this.coverage.clearFailures(building.id);
    return this.status();
  }

  /** One consistent read: a switch or a cancel that lands meanwhile (it clears the progress rows) is not half seen. */
  status(): Promise<ReindexView> {
    return this.rows.snapshot(async (em) => {
      const { active } = await this.rows.current(em);
      if (!active) throw new Error('no active embedding generation');
      const latest = await this.rows.latestReindex(em);
      return {
        active: { generation: active.id, model: active.modelId, dimension: active.dimension, activatedAt: iso(active.activatedAt) },
        reindex: latest ? await this.describe(em, latest) : null,
      };
    });
  }

  /** Cancels the running re-embed and drops what it built; search is unaffected. */
  async cancel(): Promise<ReindexView> {
    await this.lock.locked(async (em) => {
      const { building } = await this.rows.current(em);
      if (!building) throw new NotFoundException('no re-embed is running');
      await this.switches.cancel(em, building);
    });
    this.live.invalidate();
    return this.status();
  }

  private async describe(em: EntityManager, g: Generation): Promise<NonNullable<ReindexView['reindex']>> {
    const state: ReindexState = g.status === 'building' ? 'running' : g.status === 'cancelled' ? 'cancelled' : 'complete';
    const documents = state === 'running' ? await this.coverage.progress(em, g.id) : null;
    let phase: ReindexPhase | null = null;
    if (documents) {
      if (documents.done + documents.failed < documents.total) phase = 'copying';
      else if (documents.failed > 0) phase = 'blocked';
      else phase = (await this.tables.nextIndexesReady(em)) ? 'switching' : 'indexing';
    }
    return {
      generation: g.id,
      state,
      phase,
      model: g.modelId,
      dimension: g.dimension,
      previousGeneration: g.previousId,
      documents,
      startedAt: g.createdAt.toISOString(),
      finishedAt: iso(g.finishedAt),
    };
  }
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);
