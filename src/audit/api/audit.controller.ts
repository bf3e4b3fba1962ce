import { Controller, Get, Inject, Query } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { AuditEventsRepository } from '../audit-events.repository';
import { DriftAudit, freshCursors } from '../drift-audit';
import { AuditQuery } from './audit.query';

/** Windows a report reads per check: the whole of a namespace up to this many times AUDIT_SCAN_ROWS rows. */
const REPORT_WINDOWS = 20;
const RECENT_EVENTS = 50;

/**
 * `GET /v1/audit`: drift found now (a report-only pass, nothing changed) and the auditor's
 * recent findings and actions. Administrators only, once API keys exist.
 */
@Controller('v1/audit')
export class AuditController {
  constructor(
    private readonly audit: DriftAudit,
    private readonly events: AuditEventsRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  async report(@Query() query: AuditQuery) {
    const namespace = query.namespace ?? null;
    const now = await this.audit.run({ namespace, repair: false, windows: REPORT_WINDOWS, cursors: freshCursors(), record: false });
    return {
      namespace,
      repairEnabled: this.config.healing.audit.repair,
      complete: now.complete,
      checkedAt: now.finishedAt,
      kinds: Object.fromEntries(Object.entries(now.kinds).map(([kind, s]) => [kind, { found: s.found, rows: s.rows }])),
      findings: now.findings.map(({ action: _action, ...f }) => f),
      recent: await this.events.recent(namespace, RECENT_EVENTS),
    };
  }
}
