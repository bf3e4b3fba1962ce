import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AdminOnlyMiddleware } from './admin-only.middleware';
import { ApiKeyRepository } from './api-key.repository';
import { KeysController } from './api/keys.controller';
import { KeysService } from './api/keys.service';
import { AuthGuard } from './auth.guard';
import { AuthMode } from './auth-mode';
import { Authenticator } from './authenticator';
import { NamespaceGate } from './namespace-gate';
import { RateLimiter } from './rate-limiter';

/** API keys, the global guard (scopes, namespaces, rate limits) and `/v1/keys`. API processes only. */
@Global()
@Module({
  controllers: [KeysController],
  providers: [
    ApiKeyRepository,
    Authenticator,
    NamespaceGate,
    RateLimiter,
    AuthMode,
    KeysService,
    AdminOnlyMiddleware,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [AuthMode, Authenticator, AdminOnlyMiddleware],
})
export class AuthModule {}
