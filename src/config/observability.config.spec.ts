import { ConfigError, loadConfig } from './app-config';

describe('observability settings', () => {
  it('default to JSON logs at info, a read-only dashboard, short caches', () => {
    expect(loadConfig({}).observability).toEqual({
      logLevel: 'info',
      logFormat: 'json',
      documentsRefreshMs: 15000,
      queueCountsCacheMs: 2000,
      dashboard: true,
      dashboardReadOnly: true,
    });
  });

  it('name a bad LOG_LEVEL, LOG_FORMAT or QUEUE_DASHBOARD_READ_ONLY', () => {
    let error: unknown;
    try {
      loadConfig({ LOG_LEVEL: 'loud', LOG_FORMAT: 'xml', QUEUE_DASHBOARD_READ_ONLY: 'maybe' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    for (const name of ['LOG_LEVEL', 'LOG_FORMAT', 'QUEUE_DASHBOARD_READ_ONLY']) expect(message).toContain(name);
  });
});
