import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/api-errors.decorator';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { AuditEventsRepository } from '../audit-events.repository';
import { DriftAudit, freshCursors } from '../drift-audit';
import { AuditQuery } from './audit.query';
import { AuditReportResponse } from './audit.responses';

/** Windows a report reads per check: the whole of a namespace up to this many times AUDIT_SCAN_ROWS rows. */
const REPORT_WINDOWS = 20;
const RECENT_EVENTS = 50;

/**
 * `GET /v1/audit`: drift found now (a report-only pass, nothing changed) and the auditor's
 * recent findings and actions. Administrators only, once API keys exist.
 */
@ApiTags('operations')
@Controller('v1/audit')
export class AuditController {
  constructor(
    private readonly audit: DriftAudit,
    private readonly events: AuditEventsRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Drift between documents and vectors', description: 'A report-only pass now, and the recent findings and repairs (admin).' })
  @ApiOkResponse({ type: AuditReportResponse })
  @ApiErrors([400])
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
