import './test-env';
import { loadConfig } from '../../src/config/app-config';
import { createDataSource } from '../../src/database/data-source';

/** Gives every run a fresh schema in the test database, built by the real migrations. */
export default async function globalSetup(): Promise<void> {
  const dataSource = createDataSource(loadConfig());
  await dataSource.initialize();
  try {
    await dataSource.query('DROP TABLE IF EXISTS chunks, document_contents, documents, schema_migrations CASCADE');
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await dataSource.destroy();
  }
}
