import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { PeriodicTask } from '../../common/periodic-task';
import { WebhookDeliveriesRepository } from '../webhook-deliveries.repository';
import { WebhookDispatcher } from './webhook-dispatcher';

// Normal dispatch follows the commit within milliseconds; only older gaps are repaired.
const GRACE_MS = 30_000;
// Gaps older than this are left alone: a receiver told a day late is rarely helped.
const WINDOW_MS = 24 * 3600_000;
const BATCH = 200;

/**
 * Repairs lost dispatches: a worker that stops between committing a final state and
 * recording its deliveries would otherwise leave the receivers uninformed. Runs on every
 * worker at the reconcile interval; two at once are harmless (a delivery is recorded
 * once per document version, event and target).
 */
@Injectable()
export class WebhookSweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(WebhookSweeper.name);
  private readonly periodic = new PeriodicTask('webhook sweep', () => this.sweep(), this.logger);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly dispatcher: WebhookDispatcher,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.webhooks.secret) this.periodic.start(this.config.queue.reconcileIntervalMs);
  }

  onModuleDestroy(): Promise<void> {
    return this.periodic.stop();
  }

  /** Dispatches what settled between `WINDOW_MS` and `graceMs` ago without deliveries; returns how many documents. */
  async sweep(now: Date = new Date(), graceMs: number = GRACE_MS): Promise<number> {
    const lost = await this.deliveries.undispatched(new Date(now.getTime() - WINDOW_MS), new Date(now.getTime() - graceMs), BATCH);
    for (const d of lost) {
      await this.dispatcher.dispatch({ documentId: d.documentId, namespace: d.namespace, version: d.version, status: d.status, at: d.settledAt.toISOString() });
    }
    if (lost.length > 0) this.logger.warn(`dispatched the lost webhooks of ${lost.length} document(s)`);
    return lost.length;
  }
}
