import { RedisOptions } from 'ioredis';
import { RedisConfig } from '../config/app-config';

/** ioredis connection options for the configured Redis (standalone or behind Sentinel). */
export function redisOptions(r: RedisConfig): RedisOptions {
  const tls = r.tls ? { tls: {} } : {};
  if (r.sentinels) {
    // ioredis asks the sentinels for the primary and follows it across failovers.
    return {
      sentinels: r.sentinels,
      name: r.sentinelName,
      username: r.username,
      password: r.password,
      sentinelPassword: r.sentinelPassword,
      db: r.db,
      ...tls,
      ...(r.tls ? { sentinelTLS: {}, enableTLSForSentinelMode: true } : {}),
    };
  }
  return {
    host: r.host,
    port: r.port,
    username: r.username,
    password: r.password,
    db: r.db,
    ...tls,
  };
}
