import { Global, Module, OnApplicationShutdown } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/app-config';
import { dataSourceOptions } from './data-source';

/**
 * Where search and read-only listings read: the replica named by DATABASE_READ_URL, else
 * the primary. Writes, locks that coordinate writers, and the embedding cache always use
 * the primary. A replica lags: a document just marked ready may not be searchable there yet.
 */
export class ReadDatabase implements OnApplicationShutdown {
  private constructor(
    readonly source: DataSource,
    private readonly owned: boolean,
  ) {}

  static async open(primary: DataSource, config: AppConfig): Promise<ReadDatabase> {
    const replica = config.postgres.replica;
    if (!replica) return ReadDatabase.primaryOnly(primary);
    const options = dataSourceOptions({ ...config, postgres: { ...config.postgres, ...replica } });
    return new ReadDatabase(await new DataSource({ ...options, migrations: [] }).initialize(), true);
  }

  /** Reads from the primary (no replica configured). */
  static primaryOnly(primary: DataSource): ReadDatabase {
    return new ReadDatabase(primary, false);
  }

  get isReplica(): boolean {
    return this.owned;
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.owned && this.source.isInitialized) await this.source.destroy();
  }
}

@Global()
@Module({
  providers: [
    {
      provide: ReadDatabase,
      inject: [getDataSourceToken(), APP_CONFIG],
      useFactory: (primary: DataSource, config: AppConfig) => ReadDatabase.open(primary, config),
    },
  ],
  exports: [ReadDatabase],
})
export class ReadDatabaseModule {}
