import { Injectable, OnModuleDestroy } from '@nestjs/common';

/**
 * Whether this process is shutting down. Set by the first shutdown hook, so that while
 * in-flight work drains the API refuses new documents and readiness reports down.
 */
@Injectable()
export class DrainState implements OnModuleDestroy {
  private drainingSince: Date | null = null;

  get draining(): boolean {
    return this.drainingSince !== null;
  }

  start(): void {
    this.drainingSince ??= new Date();
  }

  onModuleDestroy(): void {
    this.start();
  }
}
