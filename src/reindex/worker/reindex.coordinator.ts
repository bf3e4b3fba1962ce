import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Queue } from 'bullmq';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { EmbeddingGenerations } from '../../vector-store/embedding-generations';
import { GenerationsRepository } from '../../vector-store/generations.repository';
import { CAPPED_BACKOFF } from '../../ingest/queue/backoff';
import { IngestJobName, REINDEX_QUEUE, ReindexDocumentPayload, reindexJobId } from '../../ingest/queue/ingest.jobs';

/** Documents enqueued per pass; the next pass picks up where the covered ones left off. */
const BATCH = 1000;

export type CoordinatorStep = 'idle' | 'enqueued' | 'indexed' | 'waiting' | 'switched';

/**
 * Drives a re-embed from every worker process (each step is safe to run concurrently):
 * enqueues a job for each ready document whose current version the building generation
 * lacks (job ids dedupe across processes), including documents ingested or changed
 * since the re-embed began; when none is left, builds the new generation's HNSW index
 * over the loaded rows (one process; writes continue), then asks for the atomic switch. Postgres
 * is the source of truth, so a lost Redis costs at most one pass.
 */
@Injectable()
export class ReindexCoordinator implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ReindexCoordinator.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    private readonly repo: GenerationsRepository,
    private readonly generations: EmbeddingGenerations,
    @InjectQueue(REINDEX_QUEUE) private readonly queue: Queue<ReindexDocumentPayload, unknown, IngestJobName>,
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
    const { building } = await this.repo.current();
    if (!building) return 'idle';
    const missing = await this.repo.uncovered(building.id, BATCH);
    if (missing.length > 0) {
      const q = this.config.queue;
      await this.queue.addBulk(
        missing.map((d) => {
          const data = { generationId: building.id, documentId: d.id, version: d.version };
          return {
            name: IngestJobName.ReindexDocument,
            data,
            opts: {
              jobId: reindexJobId(data),
              attempts: q.attempts,
              backoff: { type: CAPPED_BACKOFF },
              // Postgres records the outcome; a finished job only has to free its id.
              removeOnComplete: true,
              removeOnFail: true,
            },
          };
        }),
      );
      return 'enqueued';
    }
    if (!(await this.repo.deferredIndexesReady())) {
      // Every document is in: build the HNSW index over the loaded rows (writes continue meanwhile).
      const started = Date.now();
      if (await this.repo.buildDeferredIndexes(this.config.reindex.maintenanceWorkMem)) {
        this.logger.log(`generation ${building.id}: index built in ${Date.now() - started} ms`);
        return 'indexed';
      }
      return 'waiting';
    }
    const outcome = await this.repo.trySwitch(building.id);
    if (outcome !== 'switched') return 'waiting';
    this.generations.invalidate();
    this.logger.log(`generation ${building.id} (${building.modelId}) is now active; the previous generation was dropped`);
    return 'switched';
  }
}
