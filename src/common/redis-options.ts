import { RedisOptions } from 'ioredis';
import { RedisConfig } from '../config/app-config';

/** ioredis connection options for the configured Redis. */
export function redisOptions(r: RedisConfig): RedisOptions {
  return {
    host: r.host,
    port: r.port,
    username: r.username,
    password: r.password,
    db: r.db,
    ...(r.tls ? { tls: {} } : {}),
  };
}
