import { Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';

/**
 * Lets at most SEARCH_MAX_CONCURRENCY searches use the database at once in this process
 * (half the pool by default), so a burst of costly searches leaves connections for
 * documents, dead letters and health checks. A search that cannot start within
 * SEARCH_QUEUE_TIMEOUT_MS gets 503 (with Retry-After, from the exception filter).
 */
@Injectable()
export class SearchGate {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly max: number;
  private readonly waitMs: number;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const configured = config.limits.searchMaxConcurrency;
    this.max = configured > 0 ? configured : Math.max(1, Math.floor(config.postgres.poolSize / 2));
    this.waitMs = config.limits.searchQueueTimeoutMs;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    await this.enter();
    try {
      return await work();
    } finally {
      this.leave();
    }
  }

  private enter(): Promise<void> {
    if (this.running < this.max) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const turn = (): void => {
        clearTimeout(timer);
        this.running++;
        resolve();
      };
      const timer = setTimeout(() => {
        const i = this.waiting.indexOf(turn);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new ServiceUnavailableException('too many searches at once, try again shortly'));
      }, this.waitMs);
      this.waiting.push(turn);
    });
  }

  private leave(): void {
    this.running--;
    this.waiting.shift()?.();
  }
}
