import { loadConfig } from '../config/app-config';
import { createDataSource } from './data-source';

/** Applies pending migrations to the configured database, then exits. */
async function main(): Promise<void> {
  const config = loadConfig();
  const dataSource = createDataSource(config);
  await dataSource.initialize();
  try {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    const names = applied.map((m) => m.name).join(', ');
    console.log(`[migrate] ${config.postgres.database}: ${applied.length ? `applied ${names}` : 'up to date'}`);
  } finally {
    await dataSource.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(`[migrate] failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
