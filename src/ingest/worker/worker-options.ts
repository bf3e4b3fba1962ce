import { Worker } from 'bullmq';
import { AppConfig } from '../../config/app-config';
import { cappedJitteredBackoff } from '../queue/backoff';

/**
 * Applies the configured concurrency, backoff, lock and stall settings to a processor's
 * BullMQ worker before it runs. The @Processor decorator is static, and the lock manager
 * copied the lock timings when the worker was built, so it is rebuilt (a protected hook
 * BullMQ documents for subclasses; nothing has locked a job yet).
 */
export function configureWorker(worker: Worker, config: AppConfig, concurrency: number): void {
  const q = config.queue;
  worker.concurrency = concurrency;
  Object.assign(worker.opts, {
    settings: { backoffStrategy: cappedJitteredBackoff(q.backoffMs, q.backoffMaxMs) },
    lockDuration: q.lockMs,
    lockRenewTime: q.lockMs / 2,
    stalledInterval: q.stalledIntervalMs,
    maxStalledCount: q.maxStalledCount,
  });
  (worker as unknown as { createLockManager(): void }).createLockManager();
}
