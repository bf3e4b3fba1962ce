import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { EMBEDDING_PROVIDER, EmbeddingProvider } from '../embedding/embedding-provider';
import { ChunkRepository } from './chunk.repository';

/**
 * Refuses to start when the configured model cannot share the stored vectors: a
 * different dimension cannot be inserted, and a different model's vectors are not
 * comparable with its queries (unless ALLOW_MODEL_MISMATCH says a re-embed is under way).
 */
@Injectable()
export class SchemaGuard implements OnModuleInit {
  private readonly logger = new Logger(SchemaGuard.name);

  constructor(
    private readonly chunks: ChunkRepository,
    @Inject(EMBEDDING_PROVIDER) private readonly embedder: EmbeddingProvider,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    const dimension = await this.chunks.columnDimension();
    if (dimension === null) throw new Error('the chunks table is missing: run the migrations (npm run migrate)');
    if (dimension !== this.embedder.dimension) {
      throw new Error(
        `the chunks table stores ${dimension}-dimensional vectors but ${this.embedder.modelId} makes ` +
          `${this.embedder.dimension}: use a model of ${dimension} dimensions, or point DATABASE_URL at a new database ` +
          `(migrations create the column with EMBEDDING_DIMENSION) and re-post the documents`,
      );
    }
    const others = (await this.chunks.storedModels()).filter((m) => m !== this.embedder.modelId);
    if (others.length === 0) return;
    const how =
      `re-embed them: start with ALLOW_MODEL_MISMATCH=true and POST /v1/documents/:id/reprocess for each document ` +
      `(search mixes both models' vectors until that is done), or point DATABASE_URL at a new database and re-post them`;
    if (!this.config.embedding.allowModelMismatch) {
      throw new Error(`stored chunks were embedded by ${others.join(', ')}, not the configured ${this.embedder.modelId}: ${how}`);
    }
    this.logger.warn(`stored chunks were embedded by ${others.join(', ')}, not ${this.embedder.modelId}; to finish the change, ${how}`);
  }
}
