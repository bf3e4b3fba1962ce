import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { APP_CONFIG } from '../../config/config.module';
import { AppConfig } from '../../config/app-config';
import { IngestQueue } from '../queue/ingest.queue';
import { IngestProcessor } from './ingest.processor';

/** Token under which worker processes expose their liveness check to the health module. */
export const WORKER_LIVENESS = Symbol('WORKER_LIVENESS');

/**
 * A worker is live while it runs and consumes: jobs waiting, none in flight here and
 * none started for WORKER_STUCK_AFTER_MS means its connection is wedged (as after a
 * Redis outage), and only a restart helps.
 */
@Injectable()
export class WorkerLivenessIndicator {
  constructor(
    private readonly processor: IngestProcessor,
    private readonly queue: IngestQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly health: HealthIndicatorService,
  ) {}

  async check(): Promise<HealthIndicatorResult> {
    const indicator = this.health.check('worker');
    const state = this.processor.consumerState();
    if (!state.running) return indicator.down({ message: 'worker is not running' });
    const idleMs = Date.now() - state.lastStartedAt;
    if (state.inFlight === 0 && idleMs > this.config.queue.stuckAfterMs) {
      // Only a reachable Redis with work waiting proves the worker stuck; an outage is not its fault.
      const waiting = await this.queue.waitingCount().catch(() => 0);
      if (waiting > 0) {
        return indicator.down({ message: `${waiting} job(s) waiting but none started for ${Math.round(idleMs / 1000)} s` });
      }
    }
    return indicator.up({ inFlight: state.inFlight });
  }
}
