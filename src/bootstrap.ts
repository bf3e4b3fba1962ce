import { Logger, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule, AppOptions, Roles } from './app.module';
import { AppConfig, ConfigError, loadConfig } from './config/app-config';
import { HttpExceptionFilter } from './common/http-exception.filter';
import { applyHttpSecurity } from './common/http-security';
import { jsonBody } from './common/json-body.middleware';

/** Builds the Nest application for the given roles with the HTTP edge configured. */
export async function createApp(config: AppConfig, roles: Roles, options: AppOptions = {}): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, roles, options), {
    bodyParser: false,
    bufferLogs: true,
  });
  applyHttpSecurity(app, config.auth);
  app.use(jsonBody(config.bodyLimitBytes));
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
