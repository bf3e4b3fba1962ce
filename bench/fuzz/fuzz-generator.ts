/**
 * Seeded generator of hostile requests for the fuzz suite: the same seed gives the same
 * requests, so a failure is reproduced with `npm run fuzz -- --seed N`.
 */

/** mulberry32: small, fast, and good enough to spread inputs. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(max: number): number {
    return Math.floor(this.next() * max);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

export const ROUTE_FAMILIES = ['documents-post', 'documents-get', 'documents-delete', 'documents-reprocess', 'search', 'dead-letters', 'reindex'] as const;
export type RouteFamily = (typeof ROUTE_FAMILIES)[number];

export interface FuzzRequest {
  family: RouteFamily;
  method: string;
  path: string;
  contentType?: string;
  body?: string;
}

/** What the generator may aim at: ids that exist, and the limits to probe just past. */
export interface FuzzContext {
  knownIds: () => string[];
  bodyLimitBytes: number;
  maxTopK: number;
}

const NASTY_STRINGS = [
  '', ' ', '\u0000', 'a\u0000b', '\ud800', 'x\udfff', '\ud83d\ude00', '__proto__', 'constructor', 'prototype', 'toString',
  "'; DROP TABLE documents; --", '%00', '../../etc/passwd', '\u202e', '\uffff', 'null', '{"a":1}', '$in', '$gt', 'ü', '\r\n',
];
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf'];

export function randomString(rng: Rng): string {
  switch (rng.int(5)) {
    case 0:
      return rng.pick(NASTY_STRINGS);
    case 1:
      return 'w'.repeat(rng.pick([1, 127, 128, 129, 512, 513, 1000, 1001, 2000, 2001, 70000]));
    case 2:
      return Array.from({ length: 1 + rng.int(20) }, () => String.fromCharCode(rng.int(0x10000))).join('');
    default:
      return `word${rng.int(1000)} text ${rng.int(100)}`;
  }
}

/** Any JSON value, `depth` levels at most. */
export function randomJson(rng: Rng, depth: number): unknown {
  const kind = depth <= 0 ? rng.int(5) : rng.int(7);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.pick([0, -1, 1.5, 1e308, -1e-308, 2 ** 53 + 1, 100, 101, 10001]);
    case 3:
    case 4:
      return randomString(rng);
    case 5:
      return Array.from({ length: rng.int(4) }, () => randomJson(rng, depth - 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = rng.int(4); i > 0; i--) o[rng.chance(0.2) ? rng.pick(PROTO_KEYS) : randomString(rng)] = randomJson(rng, depth - 1);
      return o;
    }
  }
}

/** JSON text of a value nested `depth` deep, written by hand (JSON.stringify would recurse). */
function deepJson(depth: number): string {
  return `${'['.repeat(depth)}1${']'.repeat(depth)}`;
}

const keysObject = (n: number): Record<string, number> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
const nested = (levels: number): unknown => (levels <= 0 ? 1 : { a: nested(levels - 1) });

function validDocument(rng: Rng): Record<string, unknown> {
  return {
    content: `# Heading ${rng.int(100)}\n\n${randomString(rng)} body text ${rng.int(1e6)}`,
    namespace: rng.pick(['fuzz', 'fuzz-b']),
    title: `title ${rng.int(100)}`,
    externalId: rng.chance(0.5) ? `ext-${rng.int(50)}` : undefined,
    metadata: { team: rng.pick(['a', 'b']), n: rng.int(5) },
  };
}

function validSearch(rng: Rng): Record<string, unknown> {
  return { query: `body text ${rng.int(100)}`, namespace: rng.pick(['fuzz', 'fuzz-b']), topK: 1 + rng.int(10), mode: rng.pick(['hybrid', 'vector', 'keyword']) };
}

/** Applies one mutation to a valid body: a wrong type, a huge or hostile value, a prototype key, a limit just passed. */
function mutate(rng: Rng, body: Record<string, unknown>, justOver: Array<() => Record<string, unknown>>): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...body };
  const keys = Object.keys(copy);
  switch (rng.int(6)) {
    case 0:
      copy[rng.pick(keys)] = randomJson(rng, 2);
      break;
    case 1:
      delete copy[rng.pick(keys)];
      break;
    case 2:
      copy[rng.chance(0.5) ? rng.pick(PROTO_KEYS) : randomString(rng)] = randomJson(rng, 1);
      break;
    case 3:
      return { ...copy, ...rng.pick(justOver)() };
    case 4:
      copy[rng.pick(keys)] = randomString(rng);
      break;
    default:
      copy[rng.pick(keys)] = { [rng.pick(PROTO_KEYS)]: randomJson(rng, 1) };
  }
  return copy;
}

function cursor(rng: Rng): string {
  const raw = rng.pick([
    '2024-13-45T99:99:99.000000Z|00000000-0000-4000-8000-000000000000',
    '2024-01-01T00:00:00.000000Z|------------------------------------',
    '2024-01-01T00:00:00.000000Z|00000000-0000-4000-8000-000000000000',
    '0000-00-00T00:00:00.000000Z|00000000-0000-4000-8000-000000000000',
    randomString(rng),
  ]);
  return rng.chance(0.8) ? Buffer.from(raw, 'utf8').toString('base64url') : raw;
}

function someId(rng: Rng, ctx: FuzzContext): string {
  const known = ctx.knownIds();
  if (known.length > 0 && rng.chance(0.6)) return rng.pick(known);
  return rng.pick(['00000000-0000-4000-8000-000000000000', 'not-a-uuid', '%00', '..', randomString(rng).slice(0, 40) || 'x']);
}

/** Percent-encodes every UTF-8 byte (encodeURIComponent throws on a lone surrogate). */
function pct(s: string): string {
  return [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
}

function query(rng: Rng, params: Record<string, () => string>): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(params)) if (rng.chance(0.5)) parts.push(`${name}=${pct(value())}`);
  if (rng.chance(0.15)) parts.push(`${pct(rng.pick(PROTO_KEYS))}=1`);
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}

/** Sometimes the body is sent as something other than JSON, or as raw hostile text. */
function withEnvelope(rng: Rng, req: FuzzRequest, body: unknown, ctx: FuzzContext): FuzzRequest {
  const roll = rng.int(20);
  if (roll === 0) return { ...req, contentType: rng.pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml']), body: 'a=1' };
  if (roll === 1) return { ...req, contentType: 'application/json', body: deepJson(rng.pick([33, 1000, 10000, 100000])) };
  if (roll === 2) return { ...req, contentType: 'application/json', body: `{"pad":"${'x'.repeat(ctx.bodyLimitBytes)}"}` };
  if (roll === 3) return { ...req, contentType: 'application/json', body: rng.pick(['{', '{"a":', 'null', '[]', '"x"', '{"a":1}}', '\u0000']) };
  if (roll === 4) return { ...req, contentType: 'application/json', body: `{${Array.from({ length: 2000 }, (_, i) => `"u${i}":1`).join(',')}}` };
  return { ...req, contentType: 'application/json', body: JSON.stringify(body) };
}

/** One request of `family`. */
export function generateRequest(rng: Rng, family: RouteFamily, ctx: FuzzContext): FuzzRequest {
  switch (family) {
    case 'documents-post': {
      const justOver = [
        () => ({ title: 't'.repeat(1001) }),
        () => ({ externalId: 'e'.repeat(513) }),
        () => ({ namespace: 'n'.repeat(129) }),
        () => ({ metadata: keysObject(101) }),
        () => ({ metadata: nested(9) }),
        () => ({ metadata: { big: 'm'.repeat(65 * 1024) } }),
        () => ({ chunking: { size: 50, overlap: 26 } }),
        () => ({ chunking: { size: 49, overlap: 0 } }),
        () => ({ content: 'c'.repeat(Math.min(ctx.bodyLimitBytes, 60000)), chunking: { size: 50, overlap: 0 } }),
      ];
      const body = rng.chance(0.3) ? validDocument(rng) : rng.chance(0.15) ? randomJson(rng, 4) : mutate(rng, validDocument(rng), justOver);
      return withEnvelope(rng, { family, method: 'POST', path: '/v1/documents' }, body, ctx);
    }
    case 'documents-get':
      if (rng.chance(0.5)) return { family, method: rng.pick(['GET', 'GET', 'HEAD', 'PUT', 'PATCH']), path: `/v1/documents/${pct(someId(rng, ctx))}` };
      return {
        family,
        method: 'GET',
        path: `/v1/documents${query(rng, {
          namespace: () => rng.pick(['fuzz', 'n'.repeat(129), randomString(rng)]),
          status: () => rng.pick(['ready', 'failed', 'queued', 'bogus', '']),
          limit: () => rng.pick(['1', '100', '101', '0', '-1', '1.5', 'abc', '1e3']),
          cursor: () => cursor(rng),
        })}`,
      };
    case 'documents-delete':
      return { family, method: 'DELETE', path: `/v1/documents/${pct(someId(rng, ctx))}` };
    case 'documents-reprocess':
      return withEnvelope(rng, { family, method: 'POST', path: `/v1/documents/${pct(someId(rng, ctx))}/reprocess` }, rng.chance(0.5) ? {} : randomJson(rng, 2), ctx);
    case 'search': {
      const justOver = [
        () => ({ query: 'q'.repeat(2001) }),
        () => ({ topK: ctx.maxTopK + 1 }),
        () => ({ filter: keysObject(21) }),
        () => ({ filter: { a: { $in: Array.from({ length: 101 }, (_, i) => i) } } }),
        () => ({ filter: { a: { $in: Array.from({ length: 11 }, (_, i) => i) }, b: { $in: Array.from({ length: 10 }, (_, i) => i) } } }),
        () => ({ filter: { a: { [rng.pick(['$gt', '$ne', '$regex', '$where', '$or'])]: 1 } } }),
        () => ({ filter: { [rng.pick(PROTO_KEYS)]: 'x' } }),
        () => ({ filter: { a: rng.pick(['\u0000', '\ud800', 'x\udc00']) } }),
        () => ({ chunksPerDocument: 21, groupBy: 'document' }),
      ];
      const body = rng.chance(0.3) ? validSearch(rng) : rng.chance(0.15) ? randomJson(rng, 4) : mutate(rng, validSearch(rng), justOver);
      return withEnvelope(rng, { family, method: 'POST', path: '/v1/search' }, body, ctx);
    }
    case 'dead-letters': {
      const roll = rng.int(4);
      if (roll === 0) {
        return {
          family,
          method: 'GET',
          path: `/v1/dead-letters${query(rng, { namespace: () => randomString(rng), errorClass: () => randomString(rng), limit: () => rng.pick(['1', '101', 'x']), cursor: () => cursor(rng) })}`,
        };
      }
      if (roll === 1) return withEnvelope(rng, { family, method: 'POST', path: '/v1/dead-letters/retry' }, mutate(rng, { namespace: 'fuzz', limit: 10 }, [() => ({ limit: 10001 })]), ctx);
      if (roll === 2) return withEnvelope(rng, { family, method: 'POST', path: `/v1/dead-letters/${pct(someId(rng, ctx))}/retry` }, {}, ctx);
      return { family, method: rng.pick(['DELETE', 'PUT']), path: `/v1/dead-letters/${pct(someId(rng, ctx))}` };
    }
    case 'reindex': {
      const method = rng.pick(['GET', 'GET', 'GET', 'POST', 'DELETE', 'PUT', 'PATCH']);
      const req: FuzzRequest = { family, method, path: '/v1/reindex' };
      return method === 'POST' || method === 'PUT' ? withEnvelope(rng, req, randomJson(rng, 2), ctx) : req;
    }
  }
}
