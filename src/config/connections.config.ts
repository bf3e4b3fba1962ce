import type { EnvReader } from './env-reader';

/** Where the Postgres database is, from DATABASE_URL or else the PG* variables. */
export interface PostgresConfig {
  host: string;
  port: number;
  user: string;
  password: string | undefined;
  database: string;
  /** Connections per process. */
  poolSize: number;
  /** Server-side guards on every session: longest statement, longest idle time inside a transaction. */
  statementTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
}

/** Where Redis is, from REDIS_URL (`rediss:` for TLS). */
export interface RedisConfig {
  host: string;
  port: number;
  username: string | undefined;
  password: string | undefined;
  db: number;
  tls: boolean;
}

/** PG_POOL_SIZE, then DATABASE_URL when set, else PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE. */
export function readPostgres(r: EnvReader): PostgresConfig {
  const poolSize = r.int('PG_POOL_SIZE', 10, 1, 1000);
  const guards = {
    statementTimeoutMs: r.int('PG_STATEMENT_TIMEOUT_MS', 60000, 0, 86400000),
    idleInTransactionTimeoutMs: r.int('PG_IDLE_IN_TRANSACTION_TIMEOUT_MS', 60000, 0, 86400000),
  };
  const url = r.url('DATABASE_URL', ['postgres:', 'postgresql:']);
  if (url) {
    return {
      host: url.hostname || '127.0.0.1',
      port: url.port ? Number(url.port) : 5432,
      user: decodeURIComponent(url.username) || 'postgres',
      password: url.password ? decodeURIComponent(url.password) : undefined,
      database: decodeURIComponent(url.pathname.replace(/^\//, '')) || 'ingest',
      poolSize,
      ...guards,
    };
  }
  return {
    host: r.str('PGHOST', '127.0.0.1'),
    port: r.int('PGPORT', 5432, 1, 65535),
    user: r.str('PGUSER', 'postgres'),
    password: r.optional('PGPASSWORD'),
    database: r.str('PGDATABASE', 'ingest'),
    poolSize,
    ...guards,
  };
}

/** REDIS_URL, default redis://127.0.0.1:6379; its path is the database number. */
export function readRedis(r: EnvReader): RedisConfig {
  const url = r.url('REDIS_URL', ['redis:', 'rediss:']) ?? new URL('redis://127.0.0.1:6379');
  const db = url.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) r.fail('REDIS_URL', `database "${db}" must be a number`);
  return {
    host: url.hostname || '127.0.0.1',
    port: url.port ? Number(url.port) : 6379,
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: db === '' ? 0 : Number(db),
    tls: url.protocol === 'rediss:',
  };
}
