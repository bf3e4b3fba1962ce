import { Module } from '@nestjs/common';
import { AuditModule } from '../audit.module';
import { DriftAuditor } from './drift-auditor';

/** The background drift auditor, in processes that run workers. */
@Module({
  imports: [AuditModule],
  providers: [DriftAuditor],
})
export class AuditWorkerModule {}
