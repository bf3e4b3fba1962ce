import { Client } from 'pg';
import { loadConfig } from '../../src/config/app-config';
import { createDataSource } from '../../src/database/data-source';

const base = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/ingest_test';

/** A database of a suite's own; see {@link ownDatabase}. */
export interface OwnDatabase {
  name: string;
  url: string;
  /**
   * Drops and re-creates it: empty (the caller runs the migrations), or as a copy of
   * `template`, another database of the suite (connections still open to it are ended).
   */
  fresh(template?: OwnDatabase): Promise<void>;
  /** Drops and re-creates it empty, then builds the schema with the real migrations. */
  freshMigrated(): Promise<void>;
}

/**
 * A database of a suite's own, on the test server: for suites that change what every
 * other suite shares (embedding generations cover every document).
 */
export function ownDatabase(suiteName: string): OwnDatabase {
  const url = new URL(base);
  // Runs against another test database (TEST_DATABASE_URL) get their own copies too.
  const name = suiteName.replace(/^ingest_test/, decodeURIComponent(url.pathname.slice(1)));
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unsafe database name ${name}`);
  url.pathname = `/${name}`;
  const db: OwnDatabase = {
    name,
    url: url.toString(),
    fresh: async (template?: OwnDatabase) => {
      const admin = new Client({ connectionString: base });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        if (template) {
          // A copy needs the template to itself; a closed pool may still be letting go of it.
          await admin.query(`SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = $1`, [template.name]);
          await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template.name}`);
        } else {
          await admin.query(`CREATE DATABASE ${name}`);
        }
      } finally {
        await admin.end();
      }
    },
    freshMigrated: async () => {
      await db.fresh();
      const ds = createDataSource(loadConfig({ ...process.env, DATABASE_URL: db.url }));
      await ds.initialize();
      try {
        await ds.runMigrations({ transaction: 'each' });
      } finally {
        await ds.destroy();
      }
    },
  };
  return db;
}

/** A fresh, migrated database of a suite's own. */
export async function migratedDatabase(suiteName: string): Promise<OwnDatabase> {
  const db = ownDatabase(suiteName);
  await db.freshMigrated();
  return db;
}
