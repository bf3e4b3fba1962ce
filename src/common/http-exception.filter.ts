import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Response } from 'express';

/**
 * The one exception filter: HttpExceptions pass through as they are; anything else is a
 * 500 with a correlation id and no internals (the details go to the log).
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
    const correlationId = randomUUID();
    this.logger.error(`unhandled error ${correlationId}: ${err instanceof Error ? err.stack : String(err)}`);
    res.status(500).json({ statusCode: 500, error: 'Internal Server Error', message: 'internal error', correlationId });
  }
}
