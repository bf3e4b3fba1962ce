import { Logger } from '@nestjs/common';
import { rolesFor } from './app.module';
import { createApp, loadConfigOrExit } from './bootstrap';
import { installShutdownWatchdog } from './lifecycle/shutdown-watchdog';

/** HTTP API; with ROLE=all (the default) the worker runs in the same process. */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  installShutdownWatchdog(config.queue.shutdownGraceMs);
  const roles = rolesFor(config.role === 'worker' ? 'all' : config.role);
  const app = await createApp(config, roles);
  await app.listen(config.port);
  new Logger('Main').log(`ingest service listening on :${config.port} (api${roles.worker ? ' + worker' : ''})`);
}

main().catch((err: unknown) => {
  new Logger('Main').error(`could not start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
