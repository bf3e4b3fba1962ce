import { Logger } from '@nestjs/common';
import { createApp, loadConfigOrExit } from './bootstrap';
import { installShutdownWatchdog } from './lifecycle/shutdown-watchdog';

/** Worker process: consumes the ingest queue; serves only /health on WORKER_PORT. */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  installShutdownWatchdog(config.queue.shutdownGraceMs);
  const app = await createApp(config, { api: false, worker: true });
  await app.listen(config.workerPort);
  new Logger('Worker').log(`ingest worker running (concurrency ${config.queue.concurrency}, health on :${config.workerPort})`);
}

main().catch((err: unknown) => {
  new Logger('Worker').error(`could not start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
