import { Logger } from '@nestjs/common';

/**
 * Ends the process if a graceful shutdown has not finished `graceMs` (plus a margin for
 * closing connections) after SIGTERM/SIGINT. A Redis connection wedged by an outage can
 * keep BullMQ's close() waiting forever; an orchestrator would SIGKILL us anyway, but a
 * plain `node` process would hang. Jobs abandoned this way are retried (their locks lapse).
 */
export function installShutdownWatchdog(graceMs: number, marginMs = 10000): void {
  const arm = (signal: NodeJS.Signals): void => {
    setTimeout(() => {
      new Logger('Shutdown').error(`still running ${graceMs + marginMs} ms after ${signal}: exiting now`);
      process.exit(1);
    }, graceMs + marginMs).unref();
  };
  process.once('SIGTERM', arm);
  process.once('SIGINT', arm);
}
