import './test-env';
import { loadConfig } from '../../src/config/app-config';
import { createDataSource } from '../../src/database/data-source';

/** Gives every run a fresh schema in the test database, built by the real migrations. */
export default async function globalSetup(): Promise<void> {
  const dataSource = createDataSource(loadConfig());
  await dataSource.initialize();
  try {
    // Everything the migrations made (the vector extension included) goes; they rebuild it.
    await dataSource.query('DROP SCHEMA public CASCADE');
    await dataSource.query('CREATE SCHEMA public');
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await dataSource.destroy();
  }
}
