import { Controller, Get, Inject, Optional } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { AuthMode } from '../auth/auth-mode';
import { Public } from '../auth/access.decorators';
import { WORKER_LIVENESS, WorkerLivenessIndicator } from '../ingest/worker/worker-liveness.indicator';
import { DrainState } from '../lifecycle/drain.state';
import { PostgresHealthIndicator } from './postgres.health';
import { RedisHealthIndicator } from './redis.health';

/**
 * Kubernetes probes. Liveness: the process answers (and, in a worker, it still consumes).
 * Readiness: Postgres with pgvector and Redis answer, and the process is not draining.
 */
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly postgres: PostgresHealthIndicator,
    private readonly redis: RedisHealthIndicator,
    private readonly drain: DrainState,
    @Optional() @Inject(WORKER_LIVENESS) private readonly worker?: WorkerLivenessIndicator,
    @Optional() private readonly auth?: AuthMode,
  ) {}

  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check(this.worker ? [() => this.worker!.check()] : []);
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.lifecycle(),
      () => this.postgres.check(),
      () => this.redis.check(),
      ...(this.auth ? [() => this.auth!.check(this.indicators)] : []),
    ]);
  }

  private lifecycle(): HealthIndicatorResult {
    const indicator = this.indicators.check('lifecycle');
    return this.drain.draining ? indicator.down({ message: 'shutting down' }) : indicator.up();
  }
}
