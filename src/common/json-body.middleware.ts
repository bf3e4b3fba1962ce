import { BadRequestException, HttpException, PayloadTooLargeException, UnsupportedMediaTypeException } from '@nestjs/common';
import express, { RequestHandler } from 'express';
import { MAX_JSON_DEPTH, jsonNestingExceeds, jsonValueProblem } from './edge/json-shape';

interface BodyParserError {
  type?: string;
  status?: number;
  limit?: number;
}

/** Thrown from the parser's `verify` hook: the raw body is refused before it is parsed. */
class TooDeepError extends Error {}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * JSON body parsing whose failures become HttpExceptions with messages a client can
 * act on (the parser's own errors are terse, or reach clients as 500s). Bodies that are
 * not JSON are refused with 415 (a browser form or `text/plain` post never runs a
 * command); bodies nested too deep are refused before parsing; parsed bodies and query
 * strings are checked by `jsonValueProblem`. A `multipart/form-data` POST to one of
 * `multipartPosts` (file uploads) is left to its route, which streams it under its own limit.
 */
export function jsonBody(limitBytes: number, multipartPosts: readonly string[] = []): RequestHandler {
  const parse = express.json({
    limit: limitBytes,
    verify: (_req, _res, buf) => {
      if (jsonNestingExceeds(buf, MAX_JSON_DEPTH)) throw new TooDeepError();
    },
  });
  return (req, res, next) => {
    const queryProblem = jsonValueProblem(req.query, 'query string');
    if (queryProblem) {
      next(new BadRequestException(queryProblem));
      return;
    }
    if (req.method === 'POST' && multipartPosts.includes(req.path) && req.is('multipart/form-data')) {
      next();
      return;
    }
    const contentType = req.headers['content-type'];
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    // A bodiless request (a DELETE that names a content type anyway) has nothing to refuse.
    if (BODY_METHODS.has(req.method) && hasBody && !req.is('application/json')) {
      next(new UnsupportedMediaTypeException(`request bodies must be JSON: send content-type: application/json (got ${JSON.stringify(contentType ?? null)})`));
      return;
    }
    // The parser reads a body to its end before reporting it too large; a declared length says so at once.
    if (Number(req.headers['content-length'] ?? 0) > limitBytes) {
      next(new PayloadTooLargeException(`request body is larger than the limit of ${limitBytes} bytes`));
      return;
    }
    parse(req, res, (err?: unknown) => {
      if (err !== undefined) return next(toHttpException(err));
      const problem = jsonValueProblem(req.body, 'request body');
      next(problem ? new BadRequestException(problem) : undefined);
    });
  };
}

function toHttpException(err: unknown): HttpException {
  if (err instanceof TooDeepError) return new BadRequestException(`request body is nested deeper than ${MAX_JSON_DEPTH} levels`);
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
