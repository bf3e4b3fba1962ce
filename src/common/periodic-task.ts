import { Logger } from '@nestjs/common';

/**
 * Runs `task` every `intervalMs`, never two runs at once (a slow run skips ticks), logging
 * failures; `stop` waits for the run in progress. The timer does not keep a process alive.
 */
export class PeriodicTask {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    private readonly name: string,
    private readonly task: () => Promise<unknown>,
    private readonly logger: Logger,
  ) {}

  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      this.running ??= this.task()
        .catch((err: unknown) => this.logger.warn(`${this.name} failed: ${String(err)}`))
        .finally(() => (this.running = undefined));
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
