import { Client } from 'pg';
import { loadConfig } from '../../src/config/app-config';
import { createDataSource } from '../../src/database/data-source';

/** Where the benchmark's own database lives (never the app's or the tests' database). */
export interface BenchDbTarget {
  host: string;
  port: number;
  user: string;
  database: string;
}

export function databaseUrl(t: BenchDbTarget, database = t.database): string {
  return `postgres://${encodeURIComponent(t.user)}@${t.host}:${t.port}/${encodeURIComponent(database)}`;
}

/**
 * Creates the database if it is missing, with the vector extension, and applies the
 * project's migrations to it. `env` must name the hash provider and its dimension: the
 * initial migration sizes the vector column from the process environment.
 */
export async function ensureBenchDatabase(t: BenchDbTarget, env: NodeJS.ProcessEnv): Promise<void> {
  const admin = new Client({ connectionString: databaseUrl(t, 'postgres') });
  await admin.connect();
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [t.database]);
    if (found.rowCount === 0) {
      // Identifiers cannot be bound; the name comes from the command line, so quote it.
      await admin.query(`CREATE DATABASE "${t.database.replace(/"/g, '""')}"`);
      console.log(`created database ${t.database}`);
    }
  } finally {
    await admin.end();
  }
  const db = new Client({ connectionString: databaseUrl(t) });
  await db.connect();
  try {
    await db.query('CREATE EXTENSION IF NOT EXISTS vector');
  } finally {
    await db.end();
  }
  const ds = createDataSource(loadConfig({ ...env, DATABASE_URL: databaseUrl(t) }));
  await ds.initialize();
  try {
    await ds.runMigrations({ transaction: 'each' });
  } finally {
    await ds.destroy();
  }
}

/** Fails clearly when the stored vector column does not have the dimension the bench embeds with. */
export async function checkDimension(db: Client, dimension: number): Promise<void> {
  const r = await db.query<{ dim: number }>(
    `SELECT atttypmod AS dim FROM pg_attribute WHERE attrelid = to_regclass('chunks') AND attname = 'embedding'`,
  );
  const dim = r.rows[0]?.dim;
  if (Number(dim) !== dimension) {
    throw new Error(`chunks.embedding has ${dim} dimensions in the bench database, the bench embeds ${dimension}: drop the database and rerun`);
  }
}

/**
 * Empties every table but the migrations' record (the HNSW index with them, and whatever
 * tables later migrations add), drops backfilled namespaces' own indexes, and checkpoints,
 * so each phase starts alike.
 */
export async function resetTables(db: Client): Promise<void> {
  const r = await db.query<{ name: string }>(
    `SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'`,
  );
  await db.query(`TRUNCATE ${r.rows.map((t) => t.name).join(', ')}`);
  // A backfilled namespace's own index outlives the truncated record of it, and a later
  // backfill phase would maintain it row by row: dropped with its record.
  const own = await db.query<{ name: string }>(`SELECT quote_ident(indexname) AS name FROM pg_indexes WHERE schemaname = 'public' AND indexname LIKE 'chunks\\_ns\\_hnsw\\_%'`);
  for (const { name } of own.rows) await db.query(`DROP INDEX ${name}`);
  await db.query('CHECKPOINT');
}
