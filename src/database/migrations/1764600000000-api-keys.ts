import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * API keys: only the SHA-256 of each secret is kept (keys are 32 random bytes, so a fast
 * hash is enough), with a short display prefix. Rows are revoked, never deleted: a table
 * that has ever held a key keeps the service out of open mode.
 */
export class ApiKeys1764600000000 implements MigrationInterface {
  name = 'ApiKeys1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        prefix text NOT NULL,
        key_hash bytea NOT NULL UNIQUE,
        namespaces text[] NOT NULL,
        scopes text[] NOT NULL,
        write_per_min integer,
        search_per_min integer,
        expires_at timestamptz,
        revoked_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS api_keys`);
  }
}
