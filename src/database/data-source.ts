import { DataSource, DataSourceOptions } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { DocumentContentEntity } from '../documents/document-content.entity';
import { DocumentEntity } from '../documents/document.entity';
import { InitialSchema1764300000000 } from './migrations/1764300000000-initial-schema';
import { ChunkKeywords1764300000100 } from './migrations/1764300000100-chunk-keywords';
import { EmbeddingCache1764300000200 } from './migrations/1764300000200-embedding-cache';
import { Reliability1764300000300 } from './migrations/1764300000300-reliability';
import { EmbeddingUsage1764300000400 } from './migrations/1764300000400-embedding-usage';
import { EmbeddingGenerations1764300000500 } from './migrations/1764300000500-embedding-generations';
import { EmbeddingCacheRetention1764300000600 } from './migrations/1764300000600-embedding-cache-retention';
import { EmbeddingCharacters1764300000700 } from './migrations/1764300000700-embedding-characters';
import { ChunkVectorStorage1764300000800 } from './migrations/1764300000800-chunk-vector-storage';
import { FileUploads1764931000000 } from './migrations/1764931000000-file-uploads';
import { NamespaceIndexes1765200000000 } from './migrations/1765200000000-namespace-indexes';
import { Webhooks1764735100000 } from './migrations/1764735100000-webhooks';
import { ApiKeys1764600000000 } from './migrations/1764600000000-api-keys';
import { AuditEvents1764412300000 } from './migrations/1764412300000-audit-events';
import { DocumentSlices1765500000000 } from './migrations/1765500000000-document-slices';
import { KeywordStorage1765600000000 } from './migrations/1765600000000-keyword-storage';

/** Every migration, in order. Listed explicitly so the compiled build needs no globbing. */
export const MIGRATIONS = [
  InitialSchema1764300000000,
  ChunkKeywords1764300000100,
  EmbeddingCache1764300000200,
  Reliability1764300000300,
  EmbeddingUsage1764300000400,
  EmbeddingGenerations1764300000500,
  EmbeddingCacheRetention1764300000600,
  EmbeddingCharacters1764300000700,
  ChunkVectorStorage1764300000800,
  FileUploads1764931000000,
  Webhooks1764735100000,
  ApiKeys1764600000000,
  AuditEvents1764412300000,
  NamespaceIndexes1765200000000,
  DocumentSlices1765500000000,
  KeywordStorage1765600000000,
];

/** TypeORM options shared by the Nest module and the migration runner; never `synchronize`. */
export function dataSourceOptions(config: AppConfig): DataSourceOptions {
  const pg = config.postgres;
  return {
    type: 'postgres',
    host: pg.host,
    port: pg.port,
    username: pg.user,
    password: pg.password,
    database: pg.database,
    entities: [DocumentEntity, DocumentContentEntity],
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    synchronize: false,
    migrationsRun: false,
    extra: {
      max: pg.poolSize,
      connectionTimeoutMillis: 5000,
      // A probe or a request must not hang on a dead server.
      statement_timeout: pg.statementTimeoutMs,
      // A session wedged inside a transaction (its client gone quiet) must not hold row locks for ever.
      idle_in_transaction_session_timeout: pg.idleInTransactionTimeoutMs,
    },
  };
}

export function createDataSource(config: AppConfig): DataSource {
  return new DataSource(dataSourceOptions(config));
}
