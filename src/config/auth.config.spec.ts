import { ConfigError, loadConfig } from './app-config';

describe('auth configuration', () => {
  it('runs without auth required and with default budgets outside production', () => {
    expect(loadConfig({}).auth).toEqual({
      adminApiKey: undefined,
      required: false,
      rateLimits: { writePerMin: 1200, searchPerMin: 1200 },
      corsOrigins: [],
    });
  });

  it('requires auth by default when NODE_ENV=production, unless turned off', () => {
    expect(loadConfig({ NODE_ENV: 'production' }).auth.required).toBe(true);
    expect(loadConfig({ NODE_ENV: 'production', AUTH_REQUIRED: 'false' }).auth.required).toBe(false);
  });

  it('reads budgets and CORS origins', () => {
    const auth = loadConfig({ RATE_LIMIT_WRITE_PER_MIN: '5', RATE_LIMIT_SEARCH_PER_MIN: '0', CORS_ORIGINS: 'https://a.example, https://b.example' }).auth;
    expect(auth.rateLimits).toEqual({ writePerMin: 5, searchPerMin: 0 });
    expect(auth.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
  });

  it('refuses a short ADMIN_API_KEY without repeating it', () => {
    let error: unknown;
    try {
      loadConfig({ ADMIN_API_KEY: 'short-secret-value' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain('ADMIN_API_KEY: must be at least 32 characters');
    expect((error as ConfigError).message).not.toContain('short-secret-value');
  });
});

describe('configuration problems never repeat a secret', () => {
  it('masks the password of a URL and leaves out the values of keys and secrets', () => {
    let error: unknown;
    try {
      loadConfig({ DATABASE_URL: 'http://app:pg-secret-pw@db/ingest', REDIS_URL: 'redis://:redis-secret-pw@cache:x', PGPASSWORD: 'x', EMBEDDING_RPM: 'lots' });
    } catch (err) {
      error = err;
    }
    const message = (error as ConfigError).message;
    expect(message).toContain('DATABASE_URL="http://app:***@db/ingest": must start with postgres:// or postgresql://');
    expect(message).toContain('EMBEDDING_RPM="lots"');
    expect(message).not.toMatch(/pg-secret-pw|redis-secret-pw/);
  });
});
