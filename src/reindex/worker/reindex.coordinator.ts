import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { ReindexQueue } from '../../ingest/queue/reindex.queue';
import { ChunkTables } from '../../vector-store/generations/chunk-tables';
import { GenerationRepository } from '../../vector-store/generations/generation.repository';
import { GenerationSwitch } from '../../vector-store/generations/generation-switch';
import { LiveGenerations } from '../../vector-store/generations/live-generations';
import { ReindexCoverage } from '../../vector-store/generations/reindex-coverage.repository';

/** Documents enqueued per pass; the next pass picks up where the covered ones left off. */
const BATCH = 1000;

export type CoordinatorStep = 'idle' | 'enqueued' | 'indexed' | 'waiting' | 'switched';

/**
 * Drives a re-embed from every worker process (each step is safe to run concurrently):
 * enqueues a job for each document the building generation lacks (ReindexCoverage; job
 * ids dedupe across processes): those stored before the re-embed began, and any the
 * ingest pipeline could not write into it; when none is left, builds the new
 * generation's HNSW index over the loaded rows (one process; writes continue), then
 * asks for the atomic switch. Postgres is the source of truth, so a lost Redis costs at
 * most one pass.
 */
@Injectable()
export class ReindexCoordinator implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ReindexCoordinator.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    private readonly rows: GenerationRepository,
    private readonly coverage: ReindexCoverage,
    private readonly tables: ChunkTables,
    private readonly switches: GenerationSwitch,
    private readonly generations: LiveGenerations,
    private readonly queue: ReindexQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.running ??= this.step()
        .catch((err: unknown) => this.logger.warn(`re-embed pass failed: ${String(err)}`))
        .finally(() => (this.running = undefined));
    }, this.config.reindex.intervalMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass. */
  async step(): Promise<CoordinatorStep> {
    const { building } = await this.rows.current();
    if (!building) return 'idle';
    const missing = await this.coverage.uncovered(building.id, BATCH);
    if (missing.length > 0) {
      await this.queue.enqueueMany(missing.map((d) => ({ generationId: building.id, documentId: d.id, version: d.version })));
      return 'enqueued';
    }
    if (!(await this.tables.nextIndexesReady())) {
      // Every document is in: build the HNSW index over the loaded rows (writes continue meanwhile).
      const started = Date.now();
      if (await this.tables.buildNextIndexes(this.config.reindex.maintenanceWorkMem)) {
        this.logger.log(`generation ${building.id}: index built in ${Date.now() - started} ms`);
        return 'indexed';
      }
      return 'waiting';
    }
    const outcome = await this.switches.trySwitch(building.id);
    if (outcome !== 'switched') return 'waiting';
    this.generations.invalidate();
    this.logger.log(`generation ${building.id} (${building.modelId}) is now active; the previous generation was dropped`);
    return 'switched';
  }
}
