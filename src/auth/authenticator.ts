import { Inject, Injectable, Logger, UnauthorizedException } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/app-config';
import { hashSecret, looksLikeKey, sameDigest } from './api-key-secret';
import { ApiKeyRepository, StoredKey } from './api-key.repository';
import { TtlCache } from './key-lookup.cache';
import { ADMIN_PRINCIPAL, OPEN_PRINCIPAL, Principal } from './principal';

/** How long a replica trusts what it read about a key: revocations apply everywhere within this (plus a query). */
export const KEY_CACHE_TTL_MS = 1000;
const KEY_CACHE_MAX = 10000;

/** `Authorization: Bearer <key>` or `x-api-key: <key>`. */
export interface Credentials {
  authorization?: string;
  apiKey?: string;
}

/** Turns a request's credentials into a Principal, or refuses with 401. */
@Injectable()
export class Authenticator {
  private readonly logger = new Logger('Auth');
  private readonly adminDigest: Buffer | undefined;
  private readonly keys = new TtlCache<StoredKey | null>(KEY_CACHE_TTL_MS, KEY_CACHE_MAX);
  /** Once a key exists the service is closed for good, so only `false` needs re-reading. */
  private closed = false;
  private openCheckedAt = 0;

  constructor(
    private readonly repo: ApiKeyRepository,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.adminDigest = config.auth.adminApiKey === undefined ? undefined : hashSecret(config.auth.adminApiKey);
  }

  /** Open mode: no ADMIN_API_KEY and no key ever created; anyone may call anything. */
  async isOpen(): Promise<boolean> {
    if (this.adminDigest !== undefined || this.closed) return false;
    if (Date.now() - this.openCheckedAt >= KEY_CACHE_TTL_MS) {
      this.closed = await this.repo.anyExists();
      this.openCheckedAt = Date.now();
      if (this.closed) this.logger.log('an API key exists: open mode ends, every route except health and docs needs a key');
    }
    return !this.closed;
  }

  async authenticate(c: Credentials): Promise<Principal> {
    if (await this.isOpen()) return OPEN_PRINCIPAL;
    const secret = extractSecret(c);
    if (secret === undefined) throw unauthorized('missing API key: send it as "Authorization: Bearer <key>" or "x-api-key: <key>"');
    const digest = hashSecret(secret);
    if (this.adminDigest !== undefined && sameDigest(digest, this.adminDigest)) return ADMIN_PRINCIPAL;
    // Garbage never costs a database query.
    if (!looksLikeKey(secret)) throw unauthorized('API key is not valid');
    const key = await this.lookup(digest);
    // The lookup is by digest, then compared again in constant time: no early exit reveals a near match.
    if (!key || !sameDigest(key.keyHash, digest)) throw unauthorized('API key is not valid');
    if (key.revokedAt !== null) throw unauthorized('API key was revoked');
    if (key.expiresAt !== null && key.expiresAt.getTime() <= Date.now()) throw unauthorized('API key has expired');
    return {
      kind: 'key',
      id: key.id,
      scopes: key.scopes,
      namespaces: key.namespaces,
      rateLimits: {
        ...(key.writePerMin !== null ? { writePerMin: key.writePerMin } : {}),
        ...(key.searchPerMin !== null ? { searchPerMin: key.searchPerMin } : {}),
      },
    };
  }

  /** Forgets cached lookups, so this replica sees a revocation or the first key at once. */
  forget(): void {
    this.keys.clear();
    this.openCheckedAt = 0;
  }

  private async lookup(digest: Buffer): Promise<StoredKey | null> {
    const id = digest.toString('hex');
    const cached = this.keys.get(id);
    if (cached !== undefined) return cached;
    const key = await this.repo.findByHash(digest);
    this.keys.set(id, key);
    return key;
  }
}

function extractSecret(c: Credentials): string | undefined {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(c.authorization ?? '');
  if (bearer) return bearer[1];
  const key = c.apiKey?.trim();
  return key ? key : undefined;
}

function unauthorized(message: string): UnauthorizedException {
  return new UnauthorizedException({ statusCode: 401, error: 'Unauthorized', message });
}
