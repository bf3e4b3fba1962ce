/** Deepest nesting of objects and arrays a request body may have. */
export const MAX_JSON_DEPTH = 32;
/**
 * Most object keys a request body may hold over all its levels, outside its top-level
 * arrays; each element of a top-level array (a batch's documents) has a budget of its own.
 */
export const MAX_JSON_KEYS = 1000;

/**
 * Key names refused anywhere in a request. They name the prototype machinery of
 * JavaScript objects: a library that copies a body with plain assignment would change an
 * object's prototype instead of storing a key. Refused (400) rather than dropped, so a
 * caller never believes a key was stored or filtered on when it was not. Other names of
 * `Object.prototype` (`toString`, `valueOf`, ...) are ordinary keys.
 */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * The nesting depth of a JSON text, read from its bytes without parsing (brackets inside
 * strings do not count). Stops counting once past `limit`, so it is O(n) and cannot
 * recurse, whatever the text.
 */
export function jsonNestingExceeds(buf: Buffer, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i];
    if (inString) {
      if (b === 0x5c) i++; // backslash: skip the escaped byte
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) inString = true;
    else if (b === 0x7b || b === 0x5b) {
      if (++depth > limit) return true;
    } else if (b === 0x7d || b === 0x5d) depth--;
  }
  return false;
}

/** Why a string cannot be stored as sent, or null. */
export function textProblem(s: string): string | null {
  if (s.includes('\u0000')) return 'must not contain NUL (\\u0000) characters';
  if (LONE_SURROGATE.test(s)) return 'must not contain a lone UTF-16 surrogate (such as \\ud800): send valid Unicode';
  return null;
}

/**
 * Why a parsed request body (or query) cannot be accepted, or null: a reserved key, a
 * string Postgres cannot store (NUL) or that is not valid Unicode (a lone surrogate,
 * which would be stored as U+FFFD), or more than `MAX_JSON_KEYS` keys. The message names
 * where. Depth is bounded beforehand by `jsonNestingExceeds`, so the walk is shallow.
 */
export function jsonValueProblem(value: unknown, root: string): string | null {
  let keys = 0;
  let scope = root;
  const walk = (v: unknown, path: string, depth: number): string | null => {
    if (typeof v === 'string') {
      const p = textProblem(v);
      return p ? `${path} ${p}` : null;
    }
    if (v === null || typeof v !== 'object') return null;
    if (Array.isArray(v)) {
      // A batch of N documents may carry N documents' worth of keys: the body size limit
      // still bounds the whole.
      const own = depth === 1 ? keys : null;
      for (let i = 0; i < v.length; i++) {
        if (own !== null) [keys, scope] = [own, `${path}[${i}]`];
        const p = walk(v[i], `${path}[${i}]`, depth + 1);
        if (p) return p;
      }
      if (own !== null) scope = root;
      return null;
    }
    for (const key of Object.keys(v)) {
      if (++keys > MAX_JSON_KEYS) return `${scope} has more than ${MAX_JSON_KEYS} keys`;
      const where = path === '' ? key : `${path}.${key}`;
      if (RESERVED_KEYS.has(key)) return `${where}: the key name "${key}" is reserved and not accepted`;
      const keyProblem = textProblem(key);
      if (keyProblem) return `a key of ${path === '' ? root : path} ${keyProblem}`;
      const p = walk((v as Record<string, unknown>)[key], where, depth + 1);
      if (p) return p;
    }
    return null;
  };
  return walk(value, '', 0);
}
