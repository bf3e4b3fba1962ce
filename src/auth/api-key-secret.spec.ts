import { generateSecret, hashSecret, looksLikeKey, sameDigest } from './api-key-secret';

describe('API key secrets', () => {
  it('are 32 random bytes behind a recognisable prefix, with a short display prefix and their SHA-256', () => {
    const a = generateSecret();
    const b = generateSecret();
    expect(a.secret).toMatch(/^ik_live_[A-Za-z0-9_-]{43}$/);
    expect(a.secret).not.toBe(b.secret);
    expect(a.displayPrefix).toBe(a.secret.slice(0, 12));
    expect(a.hash.toString('hex')).toBe(hashSecret(a.secret).toString('hex'));
    expect(a.hash).toHaveLength(32);
  });

  it('tells the shape of an issued key from anything else', () => {
    expect(looksLikeKey(generateSecret().secret)).toBe(true);
    expect(looksLikeKey(`${generateSecret().secret}x`)).toBe(false);
    expect(looksLikeKey('Bearer nonsense')).toBe(false);
  });

  it('compares digests exactly', () => {
    const d = hashSecret('one');
    expect(sameDigest(d, hashSecret('one'))).toBe(true);
    expect(sameDigest(d, hashSecret('two'))).toBe(false);
    expect(sameDigest(d, Buffer.alloc(0))).toBe(false);
  });
});
