import { CanActivate, ExecutionContext, ForbiddenException, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Response } from 'express';
import { IS_PUBLIC, ROUTE_ACCESS, RateBudget, RequestWithPrincipal, RouteAccess } from './access.decorators';
import { Authenticator } from './authenticator';
import { NamespaceGate } from './namespace-gate';
import { hasScope } from './principal';
import { RateLimitedException, RateLimiter } from './rate-limiter';

// A route that declares nothing is the most protected kind, never the least.
const UNDECLARED: RouteAccess = { scope: 'admin' };

/** The one global guard: who is calling, may they use this route and namespace, and have they budget left. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: Authenticator,
    private readonly namespaces: NamespaceGate,
    private readonly limiter: RateLimiter,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const req = ctx.switchToHttp().getRequest<RequestWithPrincipal>();
    const res = ctx.switchToHttp().getResponse<Response>();
    const access = this.reflector.getAllAndOverride<RouteAccess>(ROUTE_ACCESS, targets) ?? UNDECLARED;

    let principal;
    try {
      principal = await this.authenticator.authenticate({ authorization: req.headers.authorization, apiKey: header(req.headers['x-api-key']) });
    } catch (err) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      throw err;
    }
    req.principal = principal;
    if (!hasScope(principal, access.scope)) throw new ForbiddenException(`this route needs an API key with the "${access.scope}" scope`);
    await this.namespaces.check(access, req, principal);

    const budget = budgetOf(access, req.method);
    if (budget !== undefined) {
      try {
        const d = await this.limiter.hit(budget, principal, req.ip ?? req.socket.remoteAddress ?? 'unknown');
        if (d) {
          res.setHeader('X-RateLimit-Limit', String(d.limit));
          res.setHeader('X-RateLimit-Remaining', String(d.remaining));
        }
      } catch (err) {
        if (err instanceof RateLimitedException) {
          res.setHeader('Retry-After', String(err.decision.resetSeconds));
          res.setHeader('X-RateLimit-Limit', String(err.decision.limit));
          res.setHeader('X-RateLimit-Remaining', '0');
        }
        throw err;
      }
    }
    return true;
  }
}

function budgetOf(access: RouteAccess, method: string): RateBudget | undefined {
  if (access.budget === 'none') return undefined;
  if (access.budget !== undefined) return access.budget;
  return method === 'GET' || method === 'HEAD' ? undefined : 'write';
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
