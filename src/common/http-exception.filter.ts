import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Response } from 'express';

interface BodyParserError {
  type: string;
  status?: number;
  limit?: number;
}

function isBodyParserError(err: unknown): err is BodyParserError {
  return typeof err === 'object' && err !== null && typeof (err as { type?: unknown }).type === 'string' &&
    typeof (err as { status?: unknown }).status === 'number';
}

/**
 * The one exception filter: HttpExceptions pass through as they are; body-parser errors
 * become clear 4xx answers; anything else is a 500 with a correlation id and no internals.
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
    if (isBodyParserError(err)) {
      const { status, message } = describeBodyParserError(err);
      res.status(status).json({ statusCode: status, error: HttpStatus[status], message });
      return;
    }
    const correlationId = randomUUID();
    this.logger.error(`unhandled error ${correlationId}: ${err instanceof Error ? err.stack : String(err)}`);
    res.status(500).json({ statusCode: 500, error: 'Internal Server Error', message: 'internal error', correlationId });
  }
}

function describeBodyParserError(err: BodyParserError): { status: number; message: string } {
  switch (err.type) {
    case 'entity.too.large':
      return { status: 413, message: `request body is larger than the limit of ${err.limit ?? '?'} bytes` };
    case 'entity.parse.failed':
      return { status: 400, message: 'request body is not valid JSON' };
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return { status: 415, message: 'request body encoding is not supported: send UTF-8 JSON' };
    default:
      return { status: err.status && err.status >= 400 && err.status < 500 ? err.status : 400, message: 'request body could not be read' };
  }
}
