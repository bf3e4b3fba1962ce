import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { RedisLease, leaseConnection } from '../../common/redis-lease';
import { RedisClient } from '../../common/redis-client';
import { AuditEventsRepository } from '../audit-events.repository';
import { AuditReport, DriftAudit, freshCursors } from '../drift-audit';

/**
 * Audits in the background: every AUDIT_INTERVAL_MS one worker replica (a Redis lease
 * elects it) runs one bounded pass, repairing unless AUDIT_REPAIR=false. Each pass reads
 * one window of each table and resumes after it the next time, so a large database is
 * covered over several passes at a steady, small cost.
 */
@Injectable()
export class DriftAuditor implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(DriftAuditor.name);
  private readonly cursors = freshCursors();
  private readonly redis: RedisClient;
  private readonly lease: RedisLease;
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    private readonly audit: DriftAudit,
    private readonly events: AuditEventsRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.redis = leaseConnection(config.redis);
    const interval = config.healing.audit.intervalMs;
    this.lease = new RedisLease(this.redis, `${config.queue.prefix}:auditor:lock`, Math.max(interval * 2, 60000));
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.running ??= this.runIfElected()
        .catch((err: unknown) => this.logger.warn(`audit failed: ${String(err)}`))
        .finally(() => (this.running = undefined));
    }, this.config.healing.audit.intervalMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    this.redis.disconnect();
  }

  /** One pass, unless another replica is auditing (null then). */
  async runIfElected(): Promise<AuditReport | null> {
    return this.lease.runIfFree(async () => {
      const a = this.config.healing.audit;
      const report = await this.audit.run({ namespace: null, repair: a.repair, windows: 1, cursors: this.cursors, record: true });
      await this.events.prune(a.retentionDays, a.batch);
      if (report.findings.length > 0) {
        const found = Object.entries(report.kinds).filter(([, s]) => s.found > 0).map(([k, s]) => `${k}: ${s.found} ${JSON.stringify(s.actions)}`);
        this.logger.warn(`drift found${a.repair ? ' and repaired' : ' (AUDIT_REPAIR=false: reported only)'}: ${found.join('; ')}`);
      }
      return report;
    });
  }
}
