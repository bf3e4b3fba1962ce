import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/app-config';
import { ApiKeyRepository } from './api-key.repository';
import { Authenticator } from './authenticator';

export const OPEN_MODE_WARNING =
  'OPEN MODE: no ADMIN_API_KEY and no API key exist, so anyone who can reach this port may read, change and delete ' +
  'every namespace. Set ADMIN_API_KEY (or create a key with POST /v1/keys) before exposing the service.';

/** Refuses to start without an admin credential when AUTH_REQUIRED; says loudly when the service runs open. */
@Injectable()
export class AuthMode implements OnApplicationBootstrap {
  private readonly logger = new Logger('Auth');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repo: ApiKeyRepository,
    private readonly authenticator: Authenticator,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.auth.required && this.config.auth.adminApiKey === undefined && !(await this.repo.activeAdminExists())) {
      throw new Error('AUTH_REQUIRED is true but there is no admin credential: set ADMIN_API_KEY (at least 32 random characters)');
    }
    if (await this.authenticator.isOpen()) this.logger.warn(OPEN_MODE_WARNING);
  }

  /** Readiness detail: up either way (open mode is a choice), with the warning while open. */
  async check(health: HealthIndicatorService): Promise<HealthIndicatorResult> {
    const indicator = health.check('auth');
    try {
      return (await this.authenticator.isOpen()) ? indicator.up({ mode: 'open', warning: OPEN_MODE_WARNING }) : indicator.up({ mode: 'api-keys' });
    } catch {
      return indicator.down({ message: 'could not read the API keys' });
    }
  }
}
