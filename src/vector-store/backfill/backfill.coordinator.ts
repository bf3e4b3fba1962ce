import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { PeriodicTask } from '../../common/periodic-task';
import { NamespaceIndexBuilder } from './namespace-index.builder';
import { NamespaceIndexes } from './namespace-indexes.repository';

export type BackfillStep = 'idle' | 'waiting' | 'built';

/**
 * Finishes backfills from every worker process: a namespace whose import is in (no
 * document queued or processing, and no backfill batch for BACKFILL_QUIET_MS) gets its
 * HNSW index built over the loaded rows, one namespace at a time (NamespaceIndexBuilder).
 * The state lives in Postgres, so a worker that dies mid-build is resumed by the next
 * pass of any worker; an index a re-embed's switch left behind is built again the same way.
 */
@Injectable()
export class BackfillCoordinator implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(BackfillCoordinator.name);
  private readonly periodic = new PeriodicTask('backfill pass', () => this.step(), this.logger);

  constructor(
    private readonly indexes: NamespaceIndexes,
    private readonly builder: NamespaceIndexBuilder,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.periodic.start(this.config.backfill.intervalMs);
  }

  onModuleDestroy(): Promise<void> {
    return this.periodic.stop();
  }

  /** One pass: builds the index of the first namespace whose import is in. */
  async step(): Promise<BackfillStep> {
    const unbuilt = await this.indexes.unbuilt();
    const { quietMs, maxMaintenanceWorkMem } = this.config.backfill;
    for (const target of unbuilt) {
      // Cheap check first; the builder checks again under the namespace's row lock.
      if (target.state === 'loading' && Date.now() - target.lastBatchAt.getTime() < quietMs) continue;
      const outcome = await this.builder.build(target, quietMs, maxMaintenanceWorkMem);
      if (outcome === 'busy') return 'waiting';
      if (outcome !== 'loading') return 'built';
    }
    return unbuilt.length > 0 ? 'waiting' : 'idle';
  }
}
