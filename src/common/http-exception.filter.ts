import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Response } from 'express';
import { isDatabaseUnavailable } from './database-errors';

/**
 * The one exception filter: HttpExceptions pass through as they are; a database outage is
 * a 503 with Retry-After; anything else is a 500 with a correlation id and no internals
 * (the details go to the log).
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  catch(err: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (err instanceof HttpException) {
      const body = err.getResponse();
      res.status(err.getStatus()).json(typeof body === 'string' ? { statusCode: err.getStatus(), message: body } : body);
      return;
    }
    if (isDatabaseUnavailable(err)) {
      // Not the client's mistake, and not a bug: the request can be repeated shortly.
      this.logger.warn(`database unavailable: ${err instanceof Error ? err.message : String(err)}`);
      res.setHeader('Retry-After', '2');
      res.status(503).json({ statusCode: 503, error: 'Service Unavailable', message: 'database unavailable, try again shortly' });
      return;
    }
    const correlationId = randomUUID();
    this.logger.error(`unhandled error ${correlationId}: ${err instanceof Error ? err.stack : String(err)}`);
    res.status(500).json({ statusCode: 500, error: 'Internal Server Error', message: 'internal error', correlationId });
  }
}
