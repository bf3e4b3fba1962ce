import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { assertPublicUrl, UnsafeUrlError } from '../url-safety';

/**
 * Decides whether a webhook or callback URL may be registered: webhooks must be enabled
 * (WEBHOOK_SECRET set, or nothing could be signed) and the URL must pass the address
 * checks. Every refusal is a 400 saying why.
 */
@Injectable()
export class WebhookUrlPolicy {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  async check(field: string, raw: string): Promise<string> {
    if (!this.config.webhooks.secret) {
      throw new BadRequestException(`${field}: webhooks are disabled on this service (WEBHOOK_SECRET is not set)`);
    }
    try {
      return (await assertPublicUrl(raw, this.config.webhooks.allowPrivateNetworks)).toString();
    } catch (err) {
      if (err instanceof UnsafeUrlError) throw new BadRequestException(`${field}: ${err.message}`);
      throw err;
    }
  }
}
