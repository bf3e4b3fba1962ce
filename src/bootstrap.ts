import { Logger, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule, AppOptions, Roles } from './app.module';
import { AppConfig, ConfigError, loadConfig } from './config/app-config';
import { HttpExceptionFilter } from './common/http-exception.filter';
import { applyHttpSecurity } from './common/http-security';
import { jsonBody } from './common/json-body.middleware';
import { Logger as PinoLogger } from 'nestjs-pino';
import { BootLogger } from './observability/logging/boot-logger';
import { requestContext } from './observability/logging/request-context.middleware';
import { httpMetrics } from './observability/metrics/http-metrics.middleware';
import { QUEUE_DASHBOARD_ROUTE } from './observability/queues/api/queue-dashboard.module';
import { serveOpenApi } from './common/openapi';
import { applyServerLimits, idleOnlyWhileReading } from './common/edge/http-server-limits';
import { methodNotAllowed } from './common/edge/method-not-allowed.middleware';

/** Builds the Nest application for the given roles with the HTTP edge configured. */
export async function createApp(config: AppConfig, roles: Roles, options: AppOptions = {}): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, roles, options), {
    bodyParser: false,
    bufferLogs: true,
  });
  app.useLogger(app.get(PinoLogger));
  // Before everything else: the request id and the timer cover the whole request.
  app.use(requestContext(), httpMetrics([QUEUE_DASHBOARD_ROUTE]));
  applyHttpSecurity(app, config.auth);
  app.disable('x-powered-by');
  applyServerLimits(app.getHttpServer(), config.limits);
  const express = app.getHttpAdapter().getInstance() as { router: { stack: unknown[] } };
  app.use(methodNotAllowed(() => express.router.stack));
  app.use(jsonBody(config.bodyLimitBytes, ['/v1/documents']));
  app.use(idleOnlyWhileReading(config.limits.httpIdleTimeoutMs));
  app.useGlobalPipes(
    new ValidationPipe({
      transform: true,
      whitelist: true,
      forbidNonWhitelisted: true,
      stopAtFirstError: false,
    }),
  );
  app.useGlobalFilters(new HttpExceptionFilter());
  if (roles.api) serveOpenApi(app);
  app.enableShutdownHooks();
  return app;
}

/** Loads the configuration or exits with the list of bad variables. */
export function loadConfigOrExit(): AppConfig {
  Logger.overrideLogger(new BootLogger());
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      new Logger('Config').error(err.message);
      process.exit(1);
    }
    throw err;
  }
}
