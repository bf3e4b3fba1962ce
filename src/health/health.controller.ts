import { Controller, Get, Inject, Optional } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.decorator';
import { inErrorShape } from './health-failure';
import { AuthMode } from '../auth/auth-mode';
import { Public } from '../auth/access.decorators';
import { WORKER_LIVENESS, WorkerLivenessIndicator } from '../ingest/worker/worker-liveness.indicator';
import { DrainState } from '../lifecycle/drain.state';
import { PostgresHealthIndicator } from './postgres.health';
import { RedisHealthIndicator } from './redis.health';

/** Terminus's answer when every check is up. */
class HealthResponse {
  @ApiProperty({ example: 'ok' })
  status!: string;

  @ApiProperty({ type: 'object', additionalProperties: true, example: { postgres: { status: 'up' }, redis: { status: 'up' } } })
  info!: Record<string, unknown>;

  @ApiProperty({ type: 'object', additionalProperties: true, example: {} })
  error!: Record<string, unknown>;

  @ApiProperty({ type: 'object', additionalProperties: true, example: { postgres: { status: 'up' }, redis: { status: 'up' } } })
  details!: Record<string, unknown>;
}

/**
 * Kubernetes probes. Liveness: the process answers (and, in a worker, it still consumes).
 * Readiness: Postgres with pgvector and Redis answer, and the process is not draining.
 */
@ApiTags('health')
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
  @HealthCheck({ swaggerDocumentation: false }) // its 503 schema is Terminus's body; ours is the one error shape
  @ApiOperation({ summary: 'Liveness', description: 'The process answers; in a worker, also that it still consumes.' })
  @ApiOkResponse({ type: HealthResponse })
  @ApiErrors([503], { 503: 'not live: `details` holds each check' })
  live() {
    return inErrorShape('not live', () => this.health.check(this.worker ? [() => this.worker!.check()] : []));
  }

  @Get('ready')
  @HealthCheck({ swaggerDocumentation: false }) // its 503 schema is Terminus's body; ours is the one error shape
  @ApiOperation({ summary: 'Readiness', description: 'Postgres with pgvector and Redis answer, and the process is not shutting down.' })
  @ApiOkResponse({ type: HealthResponse })
  @ApiErrors([503], { 503: 'not ready: `details` holds each check' })
  ready() {
    return inErrorShape('not ready', () =>
      this.health.check([
        () => this.lifecycle(),
        () => this.postgres.check(),
        () => this.redis.check(),
        ...(this.auth ? [() => this.auth!.check(this.indicators)] : []),
      ]),
    );
  }

  private lifecycle(): HealthIndicatorResult {
    const indicator = this.indicators.check('lifecycle');
    return this.drain.draining ? indicator.down({ message: 'shutting down' }) : indicator.up();
  }
}
