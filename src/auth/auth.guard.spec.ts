import { ExecutionContext, ForbiddenException, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Access, Public } from './access.decorators';
import { AuthGuard } from './auth.guard';
import { Authenticator, Credentials } from './authenticator';
import { NamespaceGate } from './namespace-gate';
import { Principal } from './principal';
import { RateLimiter } from './rate-limiter';

class Routes {
  @Public()
  probe(): void {}

  undeclared(): void {}

  @Access({ scope: 'search', budget: 'none' })
  search(): void {}
}

const reader: Principal = { kind: 'key', id: 'k1', scopes: ['documents:read', 'search'], namespaces: ['a'], rateLimits: {} };

function contextFor(handler: () => void, headers: Record<string, string> = {}): ExecutionContext {
  const req = { headers, method: 'GET', params: {}, query: {}, body: undefined };
  const res = { setHeader: jest.fn() };
  return {
    getType: () => 'http',
    getHandler: () => handler,
    getClass: () => Routes,
    switchToHttp: () => ({ getRequest: () => req, getResponse: () => res }),
  } as unknown as ExecutionContext;
}

function guardWith(principal: Principal | null): AuthGuard {
  const authenticator = {
    authenticate: async (c: Credentials) => {
      if (!principal || !c.authorization) throw new UnauthorizedException('API key is not valid');
      return principal;
    },
  } as unknown as Authenticator;
  const gate = { check: async () => undefined } as unknown as NamespaceGate;
  const limiter = { hit: async () => null } as unknown as RateLimiter;
  return new AuthGuard(new Reflector(), authenticator, gate, limiter);
}

describe('AuthGuard', () => {
  const routes = Routes.prototype;

  it('lets anyone call a @Public() route', async () => {
    await expect(guardWith(null).canActivate(contextFor(routes.probe))).resolves.toBe(true);
  });

  it('refuses a call without a valid key with 401', async () => {
    await expect(guardWith(null).canActivate(contextFor(routes.search))).rejects.toBeInstanceOf(UnauthorizedException);
  });

  it('lets a key with the declared scope through', async () => {
    await expect(guardWith(reader).canActivate(contextFor(routes.search, { authorization: 'Bearer x' }))).resolves.toBe(true);
  });

  it('keeps a route that declares no access to admins', async () => {
    const err = await guardWith(reader).canActivate(contextFor(routes.undeclared, { authorization: 'Bearer x' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ForbiddenException);
    expect((err as ForbiddenException).message).toBe('this route needs an API key with the "admin" scope');
    const admin: Principal = { ...reader, scopes: ['admin'] };
    await expect(guardWith(admin).canActivate(contextFor(routes.undeclared, { authorization: 'Bearer x' }))).resolves.toBe(true);
  });
});
