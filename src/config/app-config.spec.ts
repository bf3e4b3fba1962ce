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

  it('bounds the embedding cache by default, and reads its limits (0 turns one off)', () => {
    expect(loadConfig({}).embedding.cacheRetention).toEqual({
      maxRows: 1000000,
      ttlDays: 30,
      pruneIntervalMs: 600000,
      pruneBatchSize: 1000,
    });
    const c = loadConfig({
      EMBEDDING_CACHE_MAX_ROWS: '0',
      EMBEDDING_CACHE_TTL_DAYS: '7',
      EMBEDDING_CACHE_PRUNE_INTERVAL_MS: '60000',
      EMBEDDING_CACHE_PRUNE_BATCH: '2000',
    });
    expect(c.embedding.cacheRetention).toEqual({ maxRows: 0, ttlDays: 7, pruneIntervalMs: 60000, pruneBatchSize: 2000 });
  });

  it('refuses bad embedding cache limits, naming each', () => {
    expect(() =>
      loadConfig({
        EMBEDDING_CACHE_MAX_ROWS: '-1',
        EMBEDDING_CACHE_TTL_DAYS: 'a month',
        EMBEDDING_CACHE_PRUNE_INTERVAL_MS: '10',
        EMBEDDING_CACHE_PRUNE_BATCH: '0',
      }),
    ).toThrow(
      /EMBEDDING_CACHE_MAX_ROWS="-1": must be between 0 and[\s\S]*EMBEDDING_CACHE_TTL_DAYS="a month": must be a whole number[\s\S]*EMBEDDING_CACHE_PRUNE_INTERVAL_MS="10": must be between 1000 and[\s\S]*EMBEDDING_CACHE_PRUNE_BATCH="0": must be between 1 and/,
    );
  });

  it('refuses a dimension the local model cannot produce', () => {
    expect(() => loadConfig({ EMBEDDING_DIMENSION: '768' })).toThrow(/EMBEDDING_DIMENSION="768": the local model all-MiniLM-L6-v2 produces 384 dimensions/);
  });
});

describe('loadConfig: chunk unit', () => {
  const openai = (model: string): NodeJS.ProcessEnv => ({ EMBEDDING_PROVIDER: 'openai', EMBEDDING_MODEL: model, EMBEDDING_DIMENSION: '1536' });

  it('sizes chunks in MiniLM tokens by default with the local model, within its 256-token window', () => {
    expect(loadConfig({}).chunking).toMatchObject({
      unit: 'tokens',
      tokenizer: 'wordpiece:all-MiniLM-L6-v2',
      sizeTokens: 200,
      overlapTokens: 30,
      size: 1000,
      overlap: 150,
    });
  });

  it.each(['text-embedding-3-small', 'text-embedding-3-large', 'text-embedding-ada-002'])('sizes chunks in cl100k tokens for OpenAI %s', (model) => {
    expect(loadConfig(openai(model)).chunking).toMatchObject({ unit: 'tokens', tokenizer: 'cl100k_base', sizeTokens: 256, overlapTokens: 40 });
  });

  it('falls back to characters when the tokenizer is unknown (hash, other OpenAI-compatible models)', () => {
    expect(loadConfig({ EMBEDDING_PROVIDER: 'hash' }).chunking).toMatchObject({ unit: 'chars', tokenizer: null });
    expect(loadConfig(openai('nomic-embed-text')).chunking).toMatchObject({ unit: 'chars', tokenizer: null });
    expect(loadConfig({ ...openai('nomic-embed-text'), CHUNK_UNIT: 'auto' }).chunking.unit).toBe('chars');
  });

  it('sizes in characters when asked, whatever the tokenizer', () => {
    expect(loadConfig({ CHUNK_UNIT: 'chars' }).chunking).toMatchObject({ unit: 'chars', tokenizer: null });
    expect(loadConfig({ ...openai('text-embedding-3-small'), CHUNK_UNIT: 'tokens' }).chunking.unit).toBe('tokens');
  });

  it('reads the token sizes, the overlap defaulting to at most half the size', () => {
    expect(loadConfig({ CHUNK_SIZE_TOKENS: '128', CHUNK_OVERLAP_TOKENS: '16' }).chunking).toMatchObject({ sizeTokens: 128, overlapTokens: 16 });
    expect(loadConfig({ CHUNK_SIZE_TOKENS: '40' }).chunking).toMatchObject({ sizeTokens: 40, overlapTokens: 20 });
  });

  it('refuses tokens without a known tokenizer, sizes the model cannot read, and bad values', () => {
    expect(() => loadConfig({ ...openai('nomic-embed-text'), CHUNK_UNIT: 'tokens' })).toThrow(
      /CHUNK_UNIT="tokens": tokens needs a known tokenizer, and model nomic-embed-text has none/,
    );
    expect(() => loadConfig({ EMBEDDING_PROVIDER: 'hash', CHUNK_UNIT: 'tokens' })).toThrow(/the hash provider has none/);
    expect(() => loadConfig({ CHUNK_SIZE_TOKENS: '300' })).toThrow(/CHUNK_SIZE_TOKENS="300": the model reads at most 254 tokens/);
    expect(() => loadConfig({ ...openai('text-embedding-3-small'), CHUNK_SIZE_TOKENS: '9000' })).toThrow(/at most 8191 tokens/);
    expect(() => loadConfig({ CHUNK_SIZE_TOKENS: '100', CHUNK_OVERLAP_TOKENS: '100' })).toThrow(
      /CHUNK_OVERLAP_TOKENS="100": must be smaller than CHUNK_SIZE_TOKENS \(100\)/,
    );
    expect(() => loadConfig({ CHUNK_UNIT: 'words' })).toThrow(/CHUNK_UNIT="words": must be one of auto, tokens, chars/);
    expect(() => loadConfig({ CHUNK_SIZE_TOKENS: '8' })).toThrow(/CHUNK_SIZE_TOKENS="8": must be between 16 and 100000/);
  });
});
