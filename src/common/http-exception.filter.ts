import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Response } from 'express';
import { isDatabaseBusy } from './database-busy';
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
      // The rest of an oversized body is never read: close the socket instead of waiting for it.
      if (err.getStatus() === 413) {
        res.setHeader('Connection', 'close');
        res.once('finish', () => res.socket?.end());
      }
      // Every 503 is "busy or stopping": say when to come back.
      if (err.getStatus() === 503 && !res.getHeader('Retry-After')) res.setHeader('Retry-After', '1');
      res.status(err.getStatus()).json(typeof body === 'string' ? { statusCode: err.getStatus(), message: body } : shortMessages(body));
      return;
    }
    if (isDatabaseBusy(err)) {
      this.logger.warn(`database busy: ${err instanceof Error ? err.message : String(err)}`);
      res.setHeader('Retry-After', '1');
      res.status(503).json({ statusCode: 503, error: 'Service Unavailable', message: 'the database is busy, try again shortly' });
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

/** Most validation messages one answer lists: a body with thousands of bad keys gets a short answer. */
const MAX_MESSAGES = 20;

function shortMessages(body: object): object {
  const messages = (body as { message?: unknown }).message;
  if (!Array.isArray(messages) || messages.length <= MAX_MESSAGES) return body;
  return { ...body, message: [...messages.slice(0, MAX_MESSAGES), `... and ${messages.length - MAX_MESSAGES} more problems`] };
}
