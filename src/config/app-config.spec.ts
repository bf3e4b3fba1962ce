import { ConfigError, loadConfig } from './app-config';

describe('loadConfig', () => {
  it('gives working defaults with an empty environment (local model, local services)', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      role: 'all',
      port: 3000,
      postgres: { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'ingest' },
      redis: { host: '127.0.0.1', port: 6379, db: 0 },
      embedding: { provider: 'local', dimension: 384 },
      chunking: { size: 1000, overlap: 150 },
      queue: { attempts: 5, backoffMs: 1000 },
    });
  });

  it('reads DATABASE_URL and REDIS_URL', () => {
    const c = loadConfig({ DATABASE_URL: 'postgresql://app:s%40cret@db.internal:6543/docs', REDIS_URL: 'rediss://:pw@cache:6380/2' });
    expect(c.postgres).toMatchObject({ host: 'db.internal', port: 6543, user: 'app', password: 's@cret', database: 'docs' });
    expect(c.redis).toMatchObject({ host: 'cache', port: 6380, password: 'pw', db: 2, tls: true });
  });

  it('names every bad variable at once', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', CHUNK_SIZE: '500', CHUNK_OVERLAP: '600', EMBEDDING_PROVIDER: 'magic', REDIS_URL: 'http://x' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(/PORT="eighty": must be a whole number/);
    expect(message).toMatch(/CHUNK_OVERLAP="600": must be smaller than CHUNK_SIZE \(500\)/);
    expect(message).toMatch(/EMBEDDING_PROVIDER="magic": must be one of local, hash, openai/);
    expect(message).toMatch(/REDIS_URL="http:\/\/x": must start with redis:\/\/ or rediss:\/\//);
  });

  it('refuses a dimension the local model cannot produce', () => {
    expect(() => loadConfig({ EMBEDDING_DIMENSION: '768' })).toThrow(/EMBEDDING_DIMENSION="768": the local model all-MiniLM-L6-v2 produces 384 dimensions/);
  });
});
