import { Module } from '@nestjs/common';
import { DocumentsDataModule } from '../documents/documents-data.module';
import { IngestQueueModule } from '../ingest/queue/ingest-queue.module';
import { AuditEventsRepository } from './audit-events.repository';
import { AuditStats } from './audit-stats';
import { DriftAudit } from './drift-audit';
import { DriftQueries } from './drift-queries.repository';
import { DriftRepairs } from './drift-repairs.repository';

/** The drift audit itself (checks, repairs, the audit table), shared by the API report and the workers' auditor. */
@Module({
  imports: [DocumentsDataModule, IngestQueueModule],
  providers: [DriftQueries, DriftRepairs, AuditEventsRepository, DriftAudit, AuditStats],
  exports: [DriftAudit, AuditEventsRepository, AuditStats],
})
export class AuditModule {}
