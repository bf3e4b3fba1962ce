import { Logger } from '@nestjs/common';
import { getPriority, setPriority } from 'node:os';
import { createApp, loadConfigOrExit } from './bootstrap';
import { installShutdownWatchdog } from './lifecycle/shutdown-watchdog';

/** Worker process: consumes the ingest queue; serves only /health on WORKER_PORT. */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  installShutdownWatchdog(config.queue.shutdownGraceMs);
  yieldToApi(config.queue.workerNice);
  const app = await createApp(config, { api: false, worker: true });
  await app.listen(config.workerPort);
  new Logger('Worker').log(`ingest worker running (concurrency ${config.queue.concurrency}, health on :${config.workerPort})`);
}

/**
 * Lowers this process's priority: on a machine it shares with an API process, the API gets
 * the CPU first and its answers stay quick, while the workers use what is left (their
 * throughput alone is unchanged). Lowering needs no privilege; where it is refused anyway,
 * the worker runs at its priority.
 */
function yieldToApi(niceness: number): void {
  try {
    // Never raised back: a process started lower (by `nice`) stays there.
    if (getPriority() >= niceness) return;
    setPriority(niceness);
  } catch (err) {
    new Logger('Worker').warn(`could not lower the process priority (WORKER_NICE=${niceness}): ${String(err)}`);
  }
}

main().catch((err: unknown) => {
  new Logger('Worker').error(`could not start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
