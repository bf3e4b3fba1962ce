import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig } from './app-config';

describe('events and webhooks configuration', () => {
  it('leaves webhooks off without a secret, with the address check on', () => {
    const c = loadConfig({});
    expect(c.webhooks).toMatchObject({ secret: null, allowPrivateNetworks: false, attempts: 8 });
    expect(c.events.historyLength).toBe(10000);
  });

  it('decodes a whsec_ secret to its key', () => {
    const key = randomBytes(32);
    expect(loadConfig({ WEBHOOK_SECRET: `whsec_${key.toString('base64')}` }).webhooks.secret).toEqual(key);
  });

  it.each(['secret', `whsec_${randomBytes(8).toString('base64')}`, 'whsec_!!!'])('refuses WEBHOOK_SECRET=%s with how to make one', (secret) => {
    expect(() => loadConfig({ WEBHOOK_SECRET: secret })).toThrow(ConfigError);
    expect(() => loadConfig({ WEBHOOK_SECRET: secret })).toThrow(/WEBHOOK_SECRET.*whsec_ followed by 24 to 64 bytes/);
  });

  it('refuses a backoff cap below the base delay', () => {
    expect(() => loadConfig({ WEBHOOK_BACKOFF_MS: '1000', WEBHOOK_BACKOFF_MAX_MS: '10' })).toThrow(/WEBHOOK_BACKOFF_MAX_MS/);
  });
});
