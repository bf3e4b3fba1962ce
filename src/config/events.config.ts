import type { EnvReader } from './env-reader';

/** Live status events (SSE) and signed webhooks. */
export interface EventsConfig {
  /** Events kept per namespace for `Last-Event-ID` resume (a capped Redis stream). */
  historyLength: number;
  /** A namespace's history is dropped this long after its last event, so idle namespaces cost no memory. */
  historyTtlHours: number;
  /** Comment lines sent on idle SSE streams, so proxies do not close them. */
  heartbeatMs: number;
}

export interface WebhooksConfig {
  /** The decoded key of WEBHOOK_SECRET (`whsec_<base64>`); null turns webhooks off. */
  secret: Buffer | null;
  /** Lifts the private-address check on webhook URLs (tests, private deployments). */
  allowPrivateNetworks: boolean;
  timeoutMs: number;
  attempts: number;
  backoffMs: number;
  backoffMaxMs: number;
  concurrency: number;
}

/** EVENTS_* settings. */
export function readEvents(r: EnvReader): EventsConfig {
  return {
    historyLength: r.int('EVENTS_HISTORY_LENGTH', 10000, 10, 10000000),
    historyTtlHours: r.int('EVENTS_HISTORY_TTL_HOURS', 24, 1, 24 * 365),
    heartbeatMs: r.int('EVENTS_HEARTBEAT_MS', 15000, 100, 3600000),
  };
}

/** WEBHOOK_* settings. */
export function readWebhooks(r: EnvReader): WebhooksConfig {
  const backoffMs = r.int('WEBHOOK_BACKOFF_MS', 5000, 1, 3600000);
  return {
    secret: readWebhookSecret(r),
    allowPrivateNetworks: r.bool('WEBHOOK_ALLOW_PRIVATE_NETWORKS', false),
    timeoutMs: r.int('WEBHOOK_TIMEOUT_MS', 5000, 100, 60000),
    attempts: r.int('WEBHOOK_ATTEMPTS', 8, 1, 50),
    backoffMs,
    backoffMaxMs: r.int('WEBHOOK_BACKOFF_MAX_MS', 3600000, backoffMs, 86400000),
    concurrency: r.int('WEBHOOK_CONCURRENCY', 8, 1, 256),
  };
}

// Standard Webhooks secrets are `whsec_` and 24 to 64 random bytes in base64.
function readWebhookSecret(r: EnvReader): Buffer | null {
  const raw = r.optional('WEBHOOK_SECRET');
  if (raw === undefined) return null;
  const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(raw);
  const key = match ? Buffer.from(match[1], 'base64') : null;
  if (!key || key.length < 24 || key.length > 64) {
    r.fail('WEBHOOK_SECRET', 'must be whsec_ followed by 24 to 64 bytes in base64 (e.g. whsec_$(openssl rand -base64 32))');
    return null;
  }
  return key;
}
