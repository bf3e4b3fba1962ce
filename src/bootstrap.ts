import { Logger, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule, AppOptions, Roles } from './app.module';
import { AppConfig, ConfigError, loadConfig } from './config/app-config';
import { HttpExceptionFilter } from './common/http-exception.filter';
import { jsonBody } from './common/json-body.middleware';
import { applyServerLimits, idleOnlyWhileReading } from './common/edge/http-server-limits';
import { methodNotAllowed } from './common/edge/method-not-allowed.middleware';

/** Builds the Nest application for the given roles with the HTTP edge configured. */
export async function createApp(config: AppConfig, roles: Roles, options: AppOptions = {}): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, roles, options), {
    bodyParser: false,
    bufferLogs: true,
  });
  app.disable('x-powered-by');
  applyServerLimits(app.getHttpServer(), config.limits);
  const express = app.getHttpAdapter().getInstance() as { router: { stack: unknown[] } };
  app.use(methodNotAllowed(() => express.router.stack));
  app.use(jsonBody(config.bodyLimitBytes));
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
  app.enableShutdownHooks();
  return app;
}

/** Loads the configuration or exits with the list of bad variables. */
export function loadConfigOrExit(): AppConfig {
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
