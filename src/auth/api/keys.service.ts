import { BadRequestException, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { generateSecret } from '../api-key-secret';
import { ApiKeyRepository, StoredKey } from '../api-key.repository';
import { Authenticator } from '../authenticator';
import { ALL_NAMESPACES } from '../scopes';
import { CreateKeyDto } from './dto/create-key.dto';

/** A key as listed: everything but the secret, which is never stored. */
export interface KeyView {
  id: string;
  name: string;
  prefix: string;
  namespaces: string[];
  scopes: string[];
  rateLimit: { writePerMin: number | null; searchPerMin: number | null };
  expiresAt: string | null;
  revokedAt: string | null;
  createdAt: string;
}

/** Creates, lists and revokes API keys. */
@Injectable()
export class KeysService {
  private readonly logger = new Logger('ApiKeys');

  constructor(
    private readonly repo: ApiKeyRepository,
    private readonly authenticator: Authenticator,
  ) {}

  /** The new key with its secret: the only time the secret is ever shown. */
  async create(dto: CreateKeyDto, by: string): Promise<KeyView & { key: string }> {
    if (dto.namespaces.includes(ALL_NAMESPACES) && dto.namespaces.length > 1) {
      throw new BadRequestException('namespaces: "*" already means every namespace; give it alone');
    }
    const expiresAt = dto.expiresAt === undefined ? null : new Date(dto.expiresAt);
    if (expiresAt !== null && expiresAt.getTime() <= Date.now()) throw new BadRequestException('expiresAt must be in the future');
    const secret = generateSecret();
    const stored = await this.repo.insert({
      name: dto.name,
      prefix: secret.displayPrefix,
      keyHash: secret.hash,
      namespaces: dto.namespaces,
      scopes: dto.scopes,
      writePerMin: dto.rateLimit?.writePerMin ?? null,
      searchPerMin: dto.rateLimit?.searchPerMin ?? null,
      expiresAt,
    });
    // The first key ends open mode: this replica stops answering unauthenticated calls now, not after its cache.
    this.authenticator.forget();
    this.logger.log(`key ${stored.id} (${stored.prefix}…) created by ${by}: scopes ${stored.scopes.join(',')}, namespaces ${stored.namespaces.join(',')}`);
    return { ...toView(stored), key: secret.secret };
  }

  async list(): Promise<{ items: KeyView[] }> {
    return { items: (await this.repo.list()).map(toView) };
  }

  /** Revokes at once here; other replicas within the key cache's TTL. */
  async revoke(id: string, by: string): Promise<KeyView> {
    const key = await this.repo.revoke(id);
    if (!key) throw new NotFoundException(`API key ${id} not found`);
    this.authenticator.forget();
    this.logger.log(`key ${key.id} (${key.prefix}…) revoked by ${by}`);
    return toView(key);
  }
}

function toView(k: StoredKey): KeyView {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    namespaces: k.namespaces,
    scopes: k.scopes,
    rateLimit: { writePerMin: k.writePerMin, searchPerMin: k.searchPerMin },
    expiresAt: k.expiresAt?.toISOString() ?? null,
    revokedAt: k.revokedAt?.toISOString() ?? null,
    createdAt: k.createdAt.toISOString(),
  };
}
