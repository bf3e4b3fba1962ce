import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { redisOptions } from './common/redis-options';
import { dataSourceOptions } from './database/data-source';
import { DocumentsModule } from './documents/api/documents.module';
import { EmbeddingProvider } from './embedding/embedding-provider';
import { EmbeddingModule } from './embedding/embedding.module';
import { ProvidedEmbeddingModule } from './embedding/provided-embedding.module';
import { HealthModule } from './health/health.module';
import { LifecycleModule } from './lifecycle/lifecycle.module';
import { DeadLettersModule } from './ingest/api/dead-letters.module';
import { IngestWorkerModule } from './ingest/worker/ingest-worker.module';
import { ReindexApiModule } from './reindex/api/reindex-api.module';
import { SearchModule } from './vector-store/api/search.module';
import { AuditApiModule } from './audit/api/audit-api.module';
import { AuditWorkerModule } from './audit/worker/audit-worker.module';

/** Which halves of the service a process runs. */
export interface Roles {
  api: boolean;
  worker: boolean;
}

export interface AppOptions {
  /** Use this provider instead of the one EMBEDDING_PROVIDER names. */
  embeddingProvider?: EmbeddingProvider;
}

export function rolesFor(role: AppConfig['role']): Roles {
  return { api: role !== 'worker', worker: role !== 'api' };
}

/** Root module: shared infrastructure, plus the API and/or the worker side. */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig, roles: Roles, options: AppOptions = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LifecycleModule,
        TypeOrmModule.forRoot({ ...dataSourceOptions(config), retryAttempts: 3, retryDelay: 1000 }),
        BullModule.forRoot({ connection: redisOptions(config.redis), prefix: config.queue.prefix }),
        options.embeddingProvider ? ProvidedEmbeddingModule.with(options.embeddingProvider) : EmbeddingModule,
        HealthModule,
        ...(roles.api ? [DocumentsModule, SearchModule, DeadLettersModule, ReindexApiModule] : []),
        ...(roles.worker ? [IngestWorkerModule] : []),
        ...(roles.api ? [AuditApiModule] : []),
        ...(roles.worker ? [AuditWorkerModule] : []),
      ],
    };
  }
}
