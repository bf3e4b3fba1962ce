import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Response } from 'express';
import { isDatabaseBusy } from './database-busy';
import { isDatabaseUnavailable } from './database-errors';
import { ErrorBody, errorBodyOf, reasonPhrase } from './error-body';

/**
 * The one exception filter, so every error answers one shape (`ErrorBody`): HttpExceptions keep their
 * status and message; a database outage is a 503 with Retry-After; anything else is a 500 with a
 * correlation id and no internals (the details go to the log).
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  catch(err: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (err instanceof HttpException) {
      // The rest of an oversized body is never read: close the socket instead of waiting for it.
      if (err.getStatus() === 413) {
        res.setHeader('Connection', 'close');
        res.once('finish', () => res.socket?.end());
      }
      // Every 503 is "busy or stopping": say when to come back.
      if (err.getStatus() === 503 && !res.headersSent && !res.getHeader('Retry-After')) res.setHeader('Retry-After', '1');
      send(res, shortMessages(errorBodyOf(err)));
      return;
    }
    const clientError = clientErrorOf(err);
    if (clientError) {
      send(res, clientError);
      return;
    }
    if (isDatabaseBusy(err)) {
      this.logger.warn(`database busy: ${err instanceof Error ? err.message : String(err)}`);
      res.setHeader('Retry-After', '1');
      send(res, { statusCode: 503, error: 'Service Unavailable', message: 'the database is busy, try again shortly' });
      return;
    }
    if (isDatabaseUnavailable(err)) {
      // Not the client's mistake, and not a bug: the request can be repeated shortly.
      this.logger.warn(`database unavailable: ${err instanceof Error ? err.message : String(err)}`);
      res.setHeader('Retry-After', '2');
      send(res, { statusCode: 503, error: 'Service Unavailable', message: 'database unavailable, try again shortly' });
      return;
    }
    const correlationId = randomUUID();
    this.logger.error(`unhandled error ${correlationId}: ${err instanceof Error ? err.stack : String(err)}`);
    send(res, { statusCode: 500, error: 'Internal Server Error', message: 'internal error', details: { correlationId } });
  }
}

function send(res: Response, body: ErrorBody): void {
  // A stream (SSE, a download) may already have started: its status line cannot change any more.
  if (res.headersSent) {
    res.end();
    return;
  }
  res.status(body.statusCode).json(body);
}

/**
 * Errors raised before a route runs by Express and its middleware (a malformed percent-escape in a path, a
 * body parser) carry a 4xx `status` and a message meant for the client (`expose`, as `http-errors` sets it).
 */
function clientErrorOf(err: unknown): ErrorBody | null {
  if (typeof err !== 'object' || err === null) return null;
  const { status, expose, message } = err as { status?: unknown; expose?: unknown; message?: unknown };
  if (typeof status !== 'number' || status < 400 || status > 499 || expose === false) return null;
  return { statusCode: status, error: reasonPhrase(status), message: typeof message === 'string' && message !== '' ? message : reasonPhrase(status) };
}

/** Most validation messages one answer lists: a body with thousands of bad keys gets a short answer. */
const MAX_MESSAGES = 20;

function shortMessages(body: ErrorBody): ErrorBody {
  const details = body.details as { errors?: unknown } | undefined;
  const errors = details?.errors;
  if (!Array.isArray(errors) || errors.length <= MAX_MESSAGES) return body;
  const more = `... and ${errors.length - MAX_MESSAGES} more problems`;
  const kept = errors.slice(0, MAX_MESSAGES).map(String);
  return { ...body, message: [...kept, more].join('; '), details: { ...details, errors: [...kept, more] } };
}
