import type { NextFunction, Request, Response } from 'express';
import { runWithLogContext } from './log-context';
import { REQUEST_ID_HEADER, requestIdFrom } from './request-id';

/**
 * First middleware of every request: settles its id (the caller's `x-request-id`, else a
 * new one), echoes it in the answer, and opens the log context the rest of the request
 * (and the jobs it enqueues) inherit. pino-http reads the id from `req.id`.
 */
export function requestContext() {
  return (req: Request, res: Response, next: NextFunction): void => {
    const requestId = requestIdFrom(req.headers[REQUEST_ID_HEADER]);
    (req as Request & { id: string }).id = requestId;
    res.setHeader(REQUEST_ID_HEADER, requestId);
    runWithLogContext({ requestId, fromRequest: true }, next);
  };
}
