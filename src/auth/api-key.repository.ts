import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Scope } from './scopes';

/** A stored key as the service sees it: never the secret, only its hash. */
export interface StoredKey {
  id: string;
  name: string;
  prefix: string;
  keyHash: Buffer;
  namespaces: string[];
  scopes: Scope[];
  writePerMin: number | null;
  searchPerMin: number | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
  createdAt: Date;
}

export type NewKey = Pick<StoredKey, 'name' | 'prefix' | 'keyHash' | 'namespaces' | 'scopes' | 'writePerMin' | 'searchPerMin' | 'expiresAt'>;

interface KeyRow {
  id: string;
  name: string;
  prefix: string;
  key_hash: Buffer;
  namespaces: string[];
  scopes: Scope[];
  write_per_min: number | null;
  search_per_min: number | null;
  expires_at: Date | null;
  revoked_at: Date | null;
  created_at: Date;
}

const COLUMNS = 'id, name, prefix, key_hash, namespaces, scopes, write_per_min, search_per_min, expires_at, revoked_at, created_at';

/** The `api_keys` table. */
@Injectable()
export class ApiKeyRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async insert(k: NewKey): Promise<StoredKey> {
    const rows: KeyRow[] = await this.db.query(
      `INSERT INTO api_keys (name, prefix, key_hash, namespaces, scopes, write_per_min, search_per_min, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
      [k.name, k.prefix, k.keyHash, k.namespaces, k.scopes, k.writePerMin, k.searchPerMin, k.expiresAt],
    );
    return toKey(rows[0]);
  }

  /** Every key, newest first, revoked ones included (they say when). */
  async list(): Promise<StoredKey[]> {
    const rows: KeyRow[] = await this.db.query(`SELECT ${COLUMNS} FROM api_keys ORDER BY created_at DESC, id DESC`);
    return rows.map(toKey);
  }

  async findByHash(hash: Buffer): Promise<StoredKey | null> {
    const rows: KeyRow[] = await this.db.query(`SELECT ${COLUMNS} FROM api_keys WHERE key_hash = $1`, [hash]);
    return rows.length === 0 ? null : toKey(rows[0]);
  }

  /** Marks the key revoked (keeping the first revocation time); null if there is no such key. */
  async revoke(id: string): Promise<StoredKey | null> {
    // TypeORM answers an UPDATE with [rows, count].
    const [rows]: [KeyRow[], number] = await this.db.query(
      `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1 RETURNING ${COLUMNS}`,
      [id],
    );
    return rows.length === 0 ? null : toKey(rows[0]);
  }

  /** Whether any key was ever created: then the service no longer runs open. */
  async anyExists(): Promise<boolean> {
    const rows: Array<{ exists: boolean }> = await this.db.query(`SELECT EXISTS (SELECT 1 FROM api_keys) AS exists`);
    return rows[0].exists;
  }

  /** Whether a usable admin key is stored (AUTH_REQUIRED accepts it in place of ADMIN_API_KEY). */
  async activeAdminExists(): Promise<boolean> {
    const rows: Array<{ exists: boolean }> = await this.db.query(
      `SELECT EXISTS (SELECT 1 FROM api_keys WHERE 'admin' = ANY(scopes) AND revoked_at IS NULL
                        AND (expires_at IS NULL OR expires_at > now())) AS exists`,
    );
    return rows[0].exists;
  }
}

function toKey(r: KeyRow): StoredKey {
  return {
    id: r.id,
    name: r.name,
    prefix: r.prefix,
    keyHash: r.key_hash,
    namespaces: r.namespaces,
    scopes: r.scopes,
    writePerMin: r.write_per_min,
    searchPerMin: r.search_per_min,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
    createdAt: r.created_at,
  };
}
