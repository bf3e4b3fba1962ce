import { Injectable } from '@nestjs/common';
import { AuditCount, AuditEventsRepository } from './audit-events.repository';

/**
 * The auditor's totals for metrics: findings and rows concerned per kind and action, over
 * every recorded pass of every replica (read from `audit_events`, so any process can serve them).
 */
@Injectable()
export class AuditStats {
  constructor(private readonly events: AuditEventsRepository) {}

  counts(): Promise<AuditCount[]> {
    return this.events.counts();
  }
}
