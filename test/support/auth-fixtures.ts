
/** A recognisable ADMIN_API_KEY for suites that run closed. */
export const ADMIN_KEY = 'ik_test_admin_0123456789abcdef0123456789abcdef';

export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

/** One HTTP call with an optional API key (as a Bearer token). */
export async function call(
  baseUrl: string,
  method: string,
  path: string,
  opts: { key?: string; body?: unknown; headers?: Record<string, string>; stream?: boolean } = {},
): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.key !== undefined) headers.authorization = `Bearer ${opts.key}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${baseUrl}${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  // A stream that is answered (2xx) never ends on its own: its status and headers are the answer.
  if (opts.stream && res.ok) {
    await res.body?.cancel();
    return { status: res.status, headers: res.headers, text: '', body: undefined };
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: res.status, headers: res.headers, text, body };
}

export interface CreatedKey {
  id: string;
  key: string;
  prefix: string;
}

/** Creates an API key through the API with the given admin credential. */
export async function createKey(
  baseUrl: string,
  adminKey: string | undefined,
  spec: { name?: string; namespaces: string[]; scopes: string[]; rateLimit?: object; expiresAt?: string },
): Promise<CreatedKey> {
  const res = await call(baseUrl, 'POST', '/v1/keys', { key: adminKey, body: { name: spec.name ?? 'test key', ...spec } });
  if (res.status !== 201) throw new Error(`creating a key answered ${res.status}: ${res.text}`);
  return res.body as CreatedKey;
}

/** A fresh, migrated database of the suite's own (keys would close open mode for every other suite). */
export { migratedDatabase } from './own-database';
