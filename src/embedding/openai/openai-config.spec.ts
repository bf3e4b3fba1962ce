import { ConfigError, loadConfig } from '../../config/app-config';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('configuration of the openai provider', () => {
  const base = { EMBEDDING_PROVIDER: 'openai', EMBEDDING_MODEL: 'text-embedding-3-small', EMBEDDING_DIMENSION: '1536' };

  it('reads every setting, with defaults', () => {
    const e = loadConfig(base).embedding;
    expect(e).toMatchObject({
      provider: 'openai',
      model: 'text-embedding-3-small',
      dimension: 1536,
      requestTimeoutMs: 30000,
      maxBatchTokens: 30000,
      rpm: 0,
      tpm: 0,
      maxRetries: 3,
      cache: true,
      openai: { baseUrl: 'https://api.openai.com/v1', apiKey: undefined, apiKeyHeader: 'authorization', sendDimensions: false },
    });
    const azure = loadConfig({
      ...base,
      OPENAI_BASE_URL: 'https://r.openai.azure.com/openai/deployments/emb?api-version=2024-02-01',
      OPENAI_API_KEY: 'k',
      OPENAI_API_KEY_HEADER: 'api-key',
      EMBEDDING_RPM: '3000',
      EMBEDDING_TPM: '1000000',
      EMBEDDING_CACHE: 'false',
    }).embedding;
    expect(azure).toMatchObject({ rpm: 3000, tpm: 1000000, cache: false });
    expect(azure.openai).toMatchObject({ apiKey: 'k', apiKeyHeader: 'api-key' });
    expect(azure.openai.baseUrl).toContain('api-version=2024-02-01');
  });

  it('requires the model and the dimension, naming each variable', () => {
    const p = problems({ EMBEDDING_PROVIDER: 'openai' });
    expect(p.some((x) => x.startsWith('EMBEDDING_MODEL=') && x.includes('required'))).toBe(true);
    expect(p.some((x) => x.startsWith('EMBEDDING_DIMENSION=') && x.includes('required'))).toBe(true);
  });

  it('names each bad value', () => {
    const p = problems({
      ...base,
      OPENAI_BASE_URL: 'ftp://x',
      OPENAI_API_KEY_HEADER: 'x-key',
      EMBEDDING_RPM: '-1',
      EMBEDDING_REQUEST_TIMEOUT_MS: 'soon',
      EMBEDDING_CACHE: 'maybe',
    });
    for (const name of ['OPENAI_BASE_URL', 'OPENAI_API_KEY_HEADER', 'EMBEDDING_RPM', 'EMBEDDING_REQUEST_TIMEOUT_MS', 'EMBEDDING_CACHE']) {
      expect(p.some((x) => x.startsWith(`${name}=`))).toBe(true);
    }
  });
});
