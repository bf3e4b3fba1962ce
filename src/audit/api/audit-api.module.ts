import { Module } from '@nestjs/common';
import { AuditModule } from '../audit.module';
import { AuditController } from './audit.controller';

/** `GET /v1/audit`. */
@Module({
  imports: [AuditModule],
  controllers: [AuditController],
})
export class AuditApiModule {}
