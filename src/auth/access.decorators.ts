import { SetMetadata, createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { Principal } from './principal';
import { Scope } from './scopes';

export const IS_PUBLIC = 'auth:public';
export const ROUTE_ACCESS = 'auth:access';

/**
 * Where a route names the namespace it touches, so the guard can check it before the handler runs:
 * - `body`: the body's `namespace`, `default` when left out (documents and searches go there);
 * - `body-filter` / `query` / `param`: the `namespace` field there, every namespace when left out;
 * - `document`: the namespace of the document whose id is the `:id` parameter.
 * Listings that name none are narrowed by the handler with `namespaceFilter(principal)`.
 */
export type NamespaceSource = 'body' | 'body-filter' | 'query' | 'param' | 'document';

/** Which per-minute budget a route spends. */
export type RateBudget = 'write' | 'search';

export interface RouteAccess {
  scope: Scope;
  namespace?: NamespaceSource;
  /** Status for a namespace the key does not hold: 404 hides that it exists; 403 when creating in it. */
  deniedStatus?: 403 | 404;
  /** Message of that 404 for `document` routes, `:id` standing for the id; it must match the route's own 404. */
  notFound?: string;
  /** A request that names no namespace reaches all of them; a key holding `*` then needs this scope too. */
  everyNamespaceScope?: Scope;
  /** Defaults to `write` for methods other than GET and HEAD. */
  budget?: RateBudget | 'none';
}

/** No key needed: probes and documentation. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);

/** The scope a route needs and where its namespace comes from. A route without this needs `admin`. */
export const Access = (access: RouteAccess): MethodDecorator & ClassDecorator => SetMetadata(ROUTE_ACCESS, access);

export interface RequestWithPrincipal extends Request {
  principal?: Principal;
}

/** The caller the guard authenticated. */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<RequestWithPrincipal>().principal;
  if (!principal) throw new Error('CurrentPrincipal used on a route the auth guard did not run for');
  return principal;
});
