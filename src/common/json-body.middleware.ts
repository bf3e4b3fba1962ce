import { BadRequestException, HttpException, PayloadTooLargeException, UnsupportedMediaTypeException } from '@nestjs/common';
import express, { RequestHandler } from 'express';

interface BodyParserError {
  type?: string;
  status?: number;
  limit?: number;
}

/**
 * JSON body parsing whose failures become HttpExceptions with messages a client can
 * act on (the parser's own errors are terse, or reach clients as 500s).
 */
export function jsonBody(limitBytes: number): RequestHandler {
  const parse = express.json({ limit: limitBytes });
  return (req, res, next) => parse(req, res, (err?: unknown) => next(err === undefined ? undefined : toHttpException(err)));
}

function toHttpException(err: unknown): HttpException {
  const e = (typeof err === 'object' && err !== null ? err : {}) as BodyParserError;
  const detail = err instanceof Error ? err.message : String(err);
  switch (e.type) {
    case 'entity.too.large':
      return new PayloadTooLargeException(`request body is larger than the limit of ${e.limit ?? '?'} bytes`);
    case 'entity.parse.failed':
      return new BadRequestException(`request body is not valid JSON: ${detail}`);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new UnsupportedMediaTypeException('request body encoding is not supported: send UTF-8 JSON');
    default:
      return new BadRequestException(`request body could not be read: ${detail}`);
  }
}
