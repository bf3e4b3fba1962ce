import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from './config/app-config';
import { AuthModule } from './auth/auth.module';
import { ConfigModule } from './config/config.module';
import { QueueConnection, QueueConnectionModule } from './common/queue-connection.module';
import { dataSourceOptions } from './database/data-source';
import { ReadDatabaseModule } from './database/read-database.module';
import { DocumentsModule } from './documents/api/documents.module';
import { EmbeddingProvider } from './embedding/embedding-provider';
import { EmbeddingModule } from './embedding/embedding.module';
import { ProvidedEmbeddingModule } from './embedding/provided-embedding.module';
import { HealthModule } from './health/health.module';
import { LifecycleModule } from './lifecycle/lifecycle.module';
import { LoggingModule } from './observability/logging/logging.module';
import { MetricsModule } from './observability/metrics/metrics.module';
import { QueuesApiModule } from './observability/queues/api/queues-api.module';
import { DeadLettersModule } from './ingest/api/dead-letters.module';
import { IngestWorkerModule } from './ingest/worker/ingest-worker.module';
import { ReindexApiModule } from './reindex/api/reindex-api.module';
import { SearchModule } from './vector-store/api/search.module';
import { EventsApiModule } from './events/api/events-api.module';
import { WebhooksApiModule } from './webhooks/api/webhooks-api.module';
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
        LoggingModule.forRoot(config.observability),
        LifecycleModule,
        TypeOrmModule.forRoot({ ...dataSourceOptions(config), retryAttempts: 3, retryDelay: 1000 }),
        ReadDatabaseModule,
        QueueConnectionModule,
        BullModule.forRootAsync({
          inject: [QueueConnection],
          useFactory: (q: QueueConnection) => ({ connection: q.connection, prefix: config.queue.prefix }),
        }),
        options.embeddingProvider ? ProvidedEmbeddingModule.with(options.embeddingProvider) : EmbeddingModule,
        HealthModule,
        MetricsModule,
        ...(roles.api ? [DocumentsModule, SearchModule, DeadLettersModule, ReindexApiModule] : []),
        ...(roles.api ? [AuthModule] : []),
        ...(roles.worker ? [IngestWorkerModule] : []),
        ...(roles.api ? [QueuesApiModule.forRoot(config.observability)] : []),
        ...(roles.api ? [EventsApiModule, WebhooksApiModule] : []),
        ...(roles.api ? [AuditApiModule] : []),
        ...(roles.worker ? [AuditWorkerModule] : []),
      ],
    };
  }
}
