import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Every key starts so; secret scanners and people can tell one at a glance. */
export const KEY_PREFIX = 'ik_live_';
const SECRET_BYTES = 32;
/** Characters of a key kept for display: the prefix and four of the random part. */
const DISPLAY_LENGTH = KEY_PREFIX.length + 4;

export interface NewSecret {
  secret: string;
  hash: Buffer;
  displayPrefix: string;
}

/** A new random key. The secret is returned once to its creator and never stored. */
export function generateSecret(): NewSecret {
  const secret = KEY_PREFIX + randomBytes(SECRET_BYTES).toString('base64url');
  return { secret, hash: hashSecret(secret), displayPrefix: secret.slice(0, DISPLAY_LENGTH) };
}

/** Whether `s` has the shape of a key this service issues: anything else is refused without a lookup. */
export function looksLikeKey(s: string): boolean {
  return SHAPE.test(s);
}
const SHAPE = new RegExp(`^${KEY_PREFIX}[A-Za-z0-9_-]{43}$`);

/** SHA-256 is enough for 256-bit random secrets: there is nothing to brute-force. */
export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** Constant-time equality of two digests. */
export function sameDigest(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
