import { UnauthorizedException } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { AdminOnlyMiddleware } from './admin-only.middleware';
import { Authenticator } from './authenticator';
import { Principal } from './principal';

const key = (scopes: Principal['scopes']): Principal => ({ kind: 'key', id: 'k', scopes, namespaces: ['*'], rateLimits: {} });

async function run(principal: Principal | null): Promise<{ status?: number; next: boolean }> {
  const authenticator = {
    authenticate: async () => {
      if (!principal) throw new UnauthorizedException('API key is not valid');
      return principal;
    },
  } as unknown as Authenticator;
  const out: { status?: number; next: boolean } = { next: false };
  const res = {
    setHeader: () => res,
    status: (s: number) => ((out.status = s), res),
    json: () => res,
  } as unknown as Response;
  await new AdminOnlyMiddleware(authenticator).use({ headers: {} } as Request, res, (() => (out.next = true)) as NextFunction);
  return out;
}

describe('AdminOnlyMiddleware', () => {
  it('passes admin keys on, refuses other keys with 403 and bad ones with 401', async () => {
    expect(await run(key(['admin']))).toEqual({ next: true });
    expect(await run(key(['documents:read', 'search']))).toEqual({ status: 403, next: false });
    expect(await run(null)).toEqual({ status: 401, next: false });
  });
});
