import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { EmbedderRegistry } from '../../embedding/embedder-registry';
import { ChunkTables } from './chunk-tables';
import { GenerationLock } from './generation-lock';
import { GenerationRepository } from './generation.repository';
import { GenerationSwitch } from './generation-switch';
import { StartFacts, decideAtStart } from './model-change.policy';

/**
 * At start, before anything reads or writes chunks: gathers what `decideAtStart` needs
 * under the generations lock and carries out its decision (see model-change.policy.ts).
 * A refusal stops the process with the reason.
 */
@Injectable()
export class ModelChangeStartup implements OnModuleInit {
  private readonly logger = new Logger(ModelChangeStartup.name);

  constructor(
    private readonly lock: GenerationLock,
    private readonly rows: GenerationRepository,
    private readonly tables: ChunkTables,
    private readonly switches: GenerationSwitch,
    private readonly embedders: EmbedderRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    const wanted = this.embedders.configuredSpec();
    await this.lock.locked(async (em) => {
      const { active, building } = await this.rows.current(em);
      const columnDimension = active ? null : await this.tables.activeColumnDimension(em);
      const facts: StartFacts = {
        wanted,
        active,
        building,
        setAside: active ? await this.rows.setAside(em, wanted, active.id) : null,
        columnDimension,
        hasChunks: !active && columnDimension !== null ? await this.tables.hasChunks(em) : false,
        allowModelMismatch: this.config.embedding.allowModelMismatch,
        onModelChange: this.config.embedding.onModelChange,
      };
      const decision = decideAtStart(facts);
      switch (decision.action) {
        case 'refuse':
          throw new Error(decision.message);
        case 'create-active':
          if (decision.resizeTo !== null) await this.tables.resizeEmptyActive(em, decision.resizeTo);
          await this.rows.createActive(em, wanted);
          return;
        case 'serve':
          if (active && decision.recordSpec) await this.rows.setSpec(em, active.id, decision.recordSpec);
          if (active && decision.mismatch) this.embedders.serveWithConfigured(active.id);
          if (decision.warning) this.logger.warn(decision.warning);
          if (decision.note) this.logger.log(decision.note);
          return;
        case 'start-reindex': {
          if (!active) return;
          if (decision.recordSpec) await this.rows.setSpec(em, active.id, decision.recordSpec);
          const started = await this.switches.startBuilding(em, wanted, active);
          this.logger.warn(`${decision.warning} (generation ${started.id})`);
          return;
        }
      }
    });
  }
}
