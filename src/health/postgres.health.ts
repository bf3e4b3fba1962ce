import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { withTimeout } from '../common/with-timeout';

const TIMEOUT_MS = 2000;

/** Postgres answers, and the pgvector extension is installed in the database. */
@Injectable()
export class PostgresHealthIndicator {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly health: HealthIndicatorService,
  ) {}

  async check(): Promise<HealthIndicatorResult> {
    const postgres = this.health.check('postgres');
    const vector = this.health.check('pgvector');
    let version: string | undefined;
    try {
      const rows: Array<{ extversion: string }> = await withTimeout(
        this.db.query(`SELECT extversion FROM pg_extension WHERE extname = 'vector'`),
        TIMEOUT_MS,
        'postgres',
      );
      version = rows[0]?.extversion;
    } catch (err) {
      return { ...postgres.down({ message: errorText(err) }), ...vector.down({ message: 'postgres unreachable' }) };
    }
    return {
      ...postgres.up(),
      ...(version ? vector.up({ version }) : vector.down({ message: 'extension "vector" is not installed' })),
    };
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
