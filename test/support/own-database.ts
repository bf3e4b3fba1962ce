import { Client } from 'pg';

const base = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/ingest_test';

/**
 * A database of a suite's own, on the test server: for suites that change what every
 * other suite shares (embedding generations cover every document). `fresh()` drops and
 * re-creates it, empty; the caller runs the migrations.
 */
export function ownDatabase(name: string): { url: string; fresh(): Promise<void> } {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unsafe database name ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    fresh: async () => {
      const admin = new Client({ connectionString: base });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
    },
  };
}
