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
  /**
   * DATABASE_READ_URL: a read replica for search and read-only listings (same user,
   * database and pool size unless the URL says otherwise). Writes never go there.
   */
  replica?: PostgresEndpoint;
  /** Server-side guards on every session: longest statement, longest idle time inside a transaction. */
  statementTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
}

export type PostgresEndpoint = Pick<PostgresConfig, 'host' | 'port' | 'user' | 'password' | 'database'>;

/** Where Redis is, from REDIS_URL (`rediss:` for TLS). */
export interface RedisConfig {
  host: string;
  port: number;
  username: string | undefined;
  password: string | undefined;
  db: number;
  tls: boolean;
  /** Redis Cluster seed nodes (REDIS_CLUSTER_NODES); set, the service connects as a cluster client. */
  clusterNodes?: RedisNode[];
  /** Sentinels (REDIS_SENTINELS) that name the current primary of `sentinelName`. */
  sentinels?: RedisNode[];
  sentinelName?: string;
  /** REDIS_SENTINEL_PASSWORD: sentinels often run without one even when the primary has one. */
  sentinelPassword?: string;
}

export interface RedisNode {
  host: string;
  port: number;
}

/** PG_POOL_SIZE, then DATABASE_URL when set, else PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE. */
export function readPostgres(r: EnvReader): PostgresConfig {
  const poolSize = r.int('PG_POOL_SIZE', 10, 1, 1000);
  const guards = {
    statementTimeoutMs: r.int('PG_STATEMENT_TIMEOUT_MS', 60000, 0, 86400000),
    idleInTransactionTimeoutMs: r.int('PG_IDLE_IN_TRANSACTION_TIMEOUT_MS', 60000, 0, 86400000),
  };
  const url = r.url('DATABASE_URL', ['postgres:', 'postgresql:']);
  const primary: PostgresEndpoint = url
    ? endpointOf(url, { user: 'postgres', database: 'ingest' })
    : {
        host: r.str('PGHOST', '127.0.0.1'),
        port: r.int('PGPORT', 5432, 1, 65535),
        user: r.str('PGUSER', 'postgres'),
        password: r.optional('PGPASSWORD'),
        database: r.str('PGDATABASE', 'ingest'),
      };
  const readUrl = r.url('DATABASE_READ_URL', ['postgres:', 'postgresql:']);
  const replica = readUrl ? endpointOf(readUrl, primary) : undefined;
  return { ...primary, poolSize, ...guards, ...(replica ? { replica } : {}) };
}

/** A postgres:// URL's parts, with `fallback` for the user (and password) and database it leaves out. */
function endpointOf(url: URL, fallback: Pick<PostgresEndpoint, 'user' | 'database'> & { password?: string }): PostgresEndpoint {
  const user = decodeURIComponent(url.username);
  return {
    host: url.hostname || '127.0.0.1',
    port: url.port ? Number(url.port) : 5432,
    user: user || fallback.user,
    password: url.password ? decodeURIComponent(url.password) : user ? undefined : fallback.password,
    database: decodeURIComponent(url.pathname.replace(/^\//, '')) || fallback.database,
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
    ...readRedisTopology(r),
  };
}

/**
 * REDIS_CLUSTER_NODES or REDIS_SENTINELS (+ REDIS_SENTINEL_NAME): comma-separated
 * `host:port` lists. The primary's (or nodes') credentials and TLS still come from REDIS_URL.
 */
function readRedisTopology(r: EnvReader): Pick<RedisConfig, 'clusterNodes' | 'sentinels' | 'sentinelName' | 'sentinelPassword'> {
  const clusterNodes = readNodeList(r, 'REDIS_CLUSTER_NODES');
  const sentinels = readNodeList(r, 'REDIS_SENTINELS');
  if (clusterNodes && sentinels) {
    r.fail('REDIS_SENTINELS', 'set either REDIS_CLUSTER_NODES or REDIS_SENTINELS, not both');
    return {};
  }
  if (clusterNodes) return { clusterNodes };
  if (sentinels) {
    return { sentinels, sentinelName: r.str('REDIS_SENTINEL_NAME', 'mymaster'), sentinelPassword: r.optional('REDIS_SENTINEL_PASSWORD') };
  }
  return {};
}

function readNodeList(r: EnvReader, name: string): RedisNode[] | undefined {
  const raw = r.optional(name);
  if (raw === undefined) return undefined;
  const nodes: RedisNode[] = [];
  for (const entry of raw.split(',').map((e) => e.trim()).filter((e) => e !== '')) {
    const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(entry);
    const port = match ? Number(match[2]) : 0;
    if (!match || port < 1 || port > 65535) {
      r.fail(name, `"${entry}" is not host:port`);
      return undefined;
    }
    nodes.push({ host: match[1].replace(/^\[|\]$/g, ''), port });
  }
  if (nodes.length === 0) r.fail(name, 'lists no host:port');
  return nodes.length > 0 ? nodes : undefined;
}
