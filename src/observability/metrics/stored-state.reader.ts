import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditCount } from '../../audit/audit-events.repository';
import { AuditStats } from '../../audit/audit-stats';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { DOCUMENT_STATUSES, DocumentStatus } from '../../documents/document-status';
import { GenerationRepository } from '../../vector-store/generations/generation.repository';
import { ReindexCoverage, ReindexProgress } from '../../vector-store/generations/reindex-coverage.repository';
import { ReuseFor } from '../reuse-for';

/** What Postgres says at one moment: documents by state and the running re-embed's progress. */
export interface StoredState {
  documents: Record<DocumentStatus, number>;
  reindex: Pick<ReindexProgress, 'total' | 'done' | 'failed'> | null;
  /** The drift auditor's recorded findings, by kind and action. */
  audit: AuditCount[];
}

/**
 * Reads the state gauges from Postgres at most once per METRICS_DOCUMENTS_REFRESH_MS,
 * whatever the number of scrapers: one grouped count over the (status, updated_at)
 * index, and the re-embed's coverage only while one runs.
 */
@Injectable()
export class StoredStateReader {
  private readonly state = new ReuseFor(
    () => this.config.observability.documentsRefreshMs,
    () => this.query(),
  );

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly generations: GenerationRepository,
    private readonly coverage: ReindexCoverage,
    private readonly audit: AuditStats,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  read(): Promise<StoredState> {
    return this.state.get();
  }

  private async query(): Promise<StoredState> {
    const rows: Array<{ status: string; n: string }> = await this.db.query(`SELECT status, count(*) AS n FROM documents GROUP BY status`);
    const documents = Object.fromEntries(DOCUMENT_STATUSES.map((s) => [s, 0])) as Record<DocumentStatus, number>;
    for (const row of rows) if (row.status in documents) documents[row.status as DocumentStatus] = Number(row.n);
    const { building } = await this.generations.current();
    const reindex = building ? await this.coverage.progress(this.db, building.id) : null;
    const audit = await this.audit.counts();
    return { documents, reindex: reindex && { total: reindex.total, done: reindex.done, failed: reindex.failed }, audit };
  }
}
