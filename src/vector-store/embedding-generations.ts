import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { EMBEDDING_PROVIDER, EmbeddingProvider } from '../embedding/embedding-provider';
import { createEmbeddingProvider } from '../embedding/embedding.module';
import { EmbeddingSpec, configForSpec, sameModel, specFromConfig, specFromModelId } from '../embedding/embedding-spec';
import { Generation, GenerationsRepository } from './generations.repository';

export interface CurrentGenerations {
  active: Generation;
  building: Generation | null;
}

/** How long a process trusts its last read of the generations before reading them again. */
const SNAPSHOT_TTL_MS = 1000;

/**
 * This process's view of the embedding generations, and an embedder for each. At start
 * it reconciles the configured model with the stored vectors: the same model carries
 * on; a new one either starts a re-embed into a new generation (EMBEDDING_MODEL_CHANGE
 * =reindex, the default) or stops the process with how to migrate. A model that an
 * earlier re-embed replaced (or whose re-embed was cancelled), or a change while a
 * re-embed to another model runs, starts nothing: the process serves the current
 * generation and says so. The active
 * generation's embedder is rebuilt from its stored spec when the configuration has
 * moved on, so queries keep matching the vectors they search until the switch.
 */
@Injectable()
export class EmbeddingGenerations implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(EmbeddingGenerations.name);
  private snapshot?: { at: number; value: Promise<CurrentGenerations> };
  private readonly built = new Map<number, Promise<EmbeddingProvider>>();
  /** The generation ALLOW_MODEL_MISMATCH lets the configured provider serve (only the one active at start). */
  private mixingGenerationId?: number;

  constructor(
    private readonly repo: GenerationsRepository,
    @Inject(EMBEDDING_PROVIDER) private readonly configured: EmbeddingProvider,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The configured model, as a spec other processes can rebuild. */
  configuredSpec(): EmbeddingSpec {
    return specFromConfig(this.config, this.configured.modelId, this.configured.dimension);
  }

  async onModuleInit(): Promise<void> {
    const wanted = this.configuredSpec();
    await this.repo.locked(async (em) => {
      let { active, building } = await this.repo.current(em);
      if (!active) {
        const dimension = await this.repo.activeColumnDimension(em);
        if (dimension === null) throw new Error('the chunks table is missing: run the migrations (npm run migrate)');
        if (await this.repo.hasChunks(em)) {
          throw new Error('chunks exist but no embedding generation records them: run the migrations (npm run migrate)');
        }
        // A new deployment: the vector column takes the configured dimension.
        if (dimension !== wanted.dimension) await this.repo.resizeEmptyActive(em, wanted.dimension);
        await this.repo.createActive(em, wanted);
        return;
      }
      if (!active.spec) {
        const spec = sameModel(active, wanted) ? wanted : specFromModelId(active.modelId, active.dimension);
        if (spec) {
          await this.repo.setSpec(em, active.id, spec);
          active = { ...active, spec };
        }
      }
      if (sameModel(active, wanted)) return;

      const change = `stored vectors were made by ${describe(active)}, but the configured model is ${describe(wanted)}`;
      if (this.config.embedding.allowModelMismatch) {
        if (active.dimension !== wanted.dimension) {
          throw new Error(`${change}: ALLOW_MODEL_MISMATCH cannot mix dimensions; unset it to re-embed into a new generation`);
        }
        this.mixingGenerationId = active.id;
        this.logger.warn(`${change}; ALLOW_MODEL_MISMATCH=true: searching them with the configured model`);
        return;
      }
      const how =
        `start with EMBEDDING_MODEL_CHANGE=reindex to re-embed every document into a new generation while search ` +
        `answers from the current one (progress: GET /v1/reindex), or configure ${active.modelId} again`;
      if (this.config.embedding.onModelChange === 'refuse') throw new Error(`${change}: ${how}`);
      if (!active.spec) {
        throw new Error(
          `${change}, and ${active.modelId} was recorded before this service kept what it needs to embed queries ` +
            `during a re-embed: configure ${active.modelId} again and restart once, then change the model`,
        );
      }
      if (building && sameModel(building, wanted)) {
        this.logger.log(`${change}: resuming the re-embed into generation ${building.id}`);
        return;
      }
      // Processes never undo each other's model change: one with an out-of-date or
      // different configuration serves the current generation and leaves the choice to
      // an operator (POST /v1/reindex from a process configured with the model wanted).
      if (building) {
        this.logger.warn(`${change}, and a re-embed into ${describe(building)} is running: leaving it be; serving ${describe(active)}`);
        return;
      }
      const setAside = await this.repo.setAside(em, wanted, active.id);
      if (setAside) {
        const what = setAside.status === 'cancelled' ? 'a re-embed into it was cancelled' : `generation ${setAside.id} was replaced`;
        this.logger.warn(
          `${change}; ${what} (${setAside.finishedAt?.toISOString() ?? '?'}): serving ${describe(active)}; ` +
            `POST /v1/reindex to change to the configured model`,
        );
        return;
      }
      building = await this.repo.createBuilding(em, wanted, active.id);
      this.logger.warn(`${change}: re-embedding every document into generation ${building.id}; search answers from ${active.modelId} until it is complete`);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    const providers = await Promise.allSettled([...this.built.values()]);
    this.built.clear();
    for (const p of providers) if (p.status === 'fulfilled') await p.value.close?.();
  }

  /** Active and building generations, at most SNAPSHOT_TTL_MS old (see `invalidate`). */
  current(): Promise<CurrentGenerations> {
    const now = Date.now();
    if (!this.snapshot || now - this.snapshot.at > SNAPSHOT_TTL_MS) {
      const value = this.read();
      value.catch(() => (this.snapshot = undefined));
      this.snapshot = { at: now, value };
    }
    return this.snapshot.value;
  }

  /** Forget the snapshot: a generation changed under this process (it lost a `hold`). */
  invalidate(): void {
    this.snapshot = undefined;
  }

  /** The embedder whose vectors belong in `generation`. */
  embedderFor(generation: Generation): Promise<EmbeddingProvider> {
    if (sameModel(generation, this.configured) || generation.id === this.mixingGenerationId) {
      return Promise.resolve(this.configured);
    }
    let provider = this.built.get(generation.id);
    if (!provider) {
      provider = this.build(generation);
      this.built.set(generation.id, provider);
      provider.catch(() => this.built.delete(generation.id));
    }
    return provider;
  }

  private async read(): Promise<CurrentGenerations> {
    const { active, building } = await this.repo.current();
    if (!active) throw new Error('no active embedding generation: the service did not start properly');
    // Embedders of generations that ended are kept until shutdown: a job or a query may
    // still be using one (closing it mid-call would fail that document for good).
    return { active, building };
  }

  private async build(generation: Generation): Promise<EmbeddingProvider> {
    if (!generation.spec) throw new Error(`cannot embed for ${generation.modelId}: its settings were never recorded`);
    const provider = await createEmbeddingProvider(configForSpec(this.config, generation.spec));
    if (!sameModel(provider, generation)) {
      await provider.close?.();
      throw new Error(`rebuilding ${describe(generation)} gave ${describe(provider)}`);
    }
    this.logger.log(`embedder for generation ${generation.id}: ${describe(provider)}`);
    return provider;
  }
}

function describe(m: { modelId: string; dimension: number }): string {
  return `${m.modelId} (${m.dimension} dimensions)`;
}
