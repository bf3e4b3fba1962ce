import type { RateLimits } from '../config/app-config';
import { ALL_NAMESPACES, Scope } from './scopes';

/** Who is calling: a stored key, the ADMIN_API_KEY, or anyone at all while the service runs open. */
export interface Principal {
  kind: 'key' | 'admin' | 'open';
  /** Key id; `admin` or `open` for the others. Scopes idempotency keys and rate budgets. */
  id: string;
  scopes: readonly Scope[];
  /** The namespaces it may touch, or `*` for all. */
  namespaces: readonly string[];
  /** Per-key budgets replacing the configured defaults. */
  rateLimits: Partial<RateLimits>;
}

export function hasScope(p: Principal, scope: Scope): boolean {
  return p.scopes.includes('admin') || p.scopes.includes(scope);
}

export function holdsNamespace(p: Principal, namespace: string): boolean {
  return p.namespaces.includes(ALL_NAMESPACES) || p.namespaces.includes(namespace);
}

/** The namespaces a listing must stay within; undefined when the caller holds every namespace. */
export function namespaceFilter(p: Principal): string[] | undefined {
  return p.namespaces.includes(ALL_NAMESPACES) ? undefined : [...p.namespaces];
}

export const ADMIN_PRINCIPAL: Principal = { kind: 'admin', id: 'admin', scopes: ['admin'], namespaces: [ALL_NAMESPACES], rateLimits: {} };
export const OPEN_PRINCIPAL: Principal = { kind: 'open', id: 'open', scopes: ['admin'], namespaces: [ALL_NAMESPACES], rateLimits: {} };
