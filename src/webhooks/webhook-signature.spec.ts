import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { signWebhook } from './webhook-signature';

describe('signWebhook', () => {
  const key = randomBytes(32);
  const secret = `whsec_${key.toString('base64')}`;
  const body = JSON.stringify({ type: 'document.ready', data: { id: 'x' } });

  it('produces headers the standardwebhooks verifier accepts', () => {
    const headers = signWebhook(key, 'msg_1', body);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  it('is rejected for another body, another key, or an old timestamp', () => {
    const headers = signWebhook(key, 'msg_1', body);
    expect(() => new Webhook(secret).verify(`${body} `, { ...headers })).toThrow();
    expect(() => new Webhook(`whsec_${randomBytes(32).toString('base64')}`).verify(body, { ...headers })).toThrow();
    const old = signWebhook(key, 'msg_1', body, new Date(Date.now() - 60 * 60 * 1000));
    expect(() => new Webhook(secret).verify(body, { ...old })).toThrow(/too old/i);
  });
});
