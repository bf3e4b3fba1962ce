import type { EnvReader } from './env-reader';

/** Requests per minute allowed in each budget. */
export interface RateLimits {
  writePerMin: number;
  searchPerMin: number;
}

/** API keys, open mode, per-key rate limits and CORS. */
export interface AuthConfig {
  /** Bootstrap admin credential; never logged, compared by hash in constant time. */
  adminApiKey: string | undefined;
  /** Refuse to start the API without an admin credential (no open mode). */
  required: boolean;
  /** Default budgets; a key may carry its own. 0 turns a budget off. */
  rateLimits: RateLimits;
  /** Origins allowed to call from a browser; empty means CORS stays off. */
  corsOrigins: string[];
  /** METRICS_TOKEN: when set, `/metrics` answers only `Authorization: Bearer <token>` (API and worker ports). */
  metricsToken: string | undefined;
}

/** Shortest ADMIN_API_KEY accepted: anything shorter can be guessed. */
export const MIN_ADMIN_KEY_LENGTH = 32;

/** ADMIN_API_KEY, AUTH_REQUIRED (default true when NODE_ENV=production), RATE_LIMIT_*, CORS_ORIGINS. */
export function readAuth(r: EnvReader, env: NodeJS.ProcessEnv): AuthConfig {
  const adminApiKey = r.optional('ADMIN_API_KEY');
  if (adminApiKey !== undefined && adminApiKey.length < MIN_ADMIN_KEY_LENGTH) {
    // Named without its value: the reader would echo it into the start-up log.
    r.failQuietly('ADMIN_API_KEY', `must be at least ${MIN_ADMIN_KEY_LENGTH} characters (e.g. openssl rand -base64 32)`);
  }
  const origins = r.optional('CORS_ORIGINS');
  return {
    adminApiKey,
    required: r.bool('AUTH_REQUIRED', env.NODE_ENV === 'production'),
    rateLimits: {
      writePerMin: r.int('RATE_LIMIT_WRITE_PER_MIN', 1200, 0, 1000000),
      searchPerMin: r.int('RATE_LIMIT_SEARCH_PER_MIN', 1200, 0, 1000000),
    },
    corsOrigins: origins === undefined ? [] : origins.split(',').map((o) => o.trim()).filter((o) => o !== ''),
    metricsToken: r.optional('METRICS_TOKEN'),
  };
}
