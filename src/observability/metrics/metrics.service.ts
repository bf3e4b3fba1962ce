import { Injectable, Logger } from '@nestjs/common';
import { QueueStates } from '../queues/queue-states';
import { StoredStateReader } from './stored-state.reader';
import {
  auditFindings,
  auditRows,
  documentsByState,
  metricsRegistry,
  queueJobs,
  queueOldestWaitingAge,
  queuePaused,
  reindexDocuments,
  reindexRunning,
} from './service-metrics';

/**
 * Renders the Prometheus exposition: the process's counters and histograms as they stand,
 * and the state gauges refreshed from Postgres and Redis (each cached, see their readers).
 * A store that does not answer leaves its gauges at their last values and the scrape
 * still succeeds: the counters matter most when something is down.
 */
@Injectable()
export class MetricsService {
  private readonly logger = new Logger(MetricsService.name);

  constructor(
    private readonly stored: StoredStateReader,
    private readonly queues: QueueStates,
  ) {}

  get contentType(): string {
    return metricsRegistry.contentType;
  }

  async render(): Promise<string> {
    await Promise.all([this.refreshStored(), this.refreshQueues()]);
    return metricsRegistry.metrics();
  }

  private async refreshStored(): Promise<void> {
    try {
      const state = await this.stored.read();
      for (const [status, n] of Object.entries(state.documents)) documentsByState.set({ state: status }, n);
      reindexRunning.set(state.reindex ? 1 : 0);
      reindexDocuments.reset();
      if (state.reindex) for (const [k, n] of Object.entries(state.reindex)) reindexDocuments.set({ state: k }, n);
      auditFindings.reset();
      auditRows.reset();
      for (const c of state.audit) {
        auditFindings.set({ kind: c.kind, action: c.action }, c.findings);
        auditRows.set({ kind: c.kind, action: c.action }, c.rows);
      }
    } catch (err) {
      this.logger.warn(`metrics: could not read document states: ${String(err)}`);
    }
  }

  private async refreshQueues(): Promise<void> {
    try {
      for (const q of await this.queues.read()) {
        for (const [state, n] of Object.entries(q.counts)) queueJobs.set({ queue: q.name, state }, n);
        queueOldestWaitingAge.set({ queue: q.name }, q.oldestWaitingAgeSeconds ?? 0);
        queuePaused.set({ queue: q.name }, q.paused ? 1 : 0);
      }
    } catch (err) {
      this.logger.warn(`metrics: could not read queue states: ${String(err)}`);
    }
  }
}
