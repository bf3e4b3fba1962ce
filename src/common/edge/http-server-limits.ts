import type { RequestHandler } from 'express';
import type { Server } from 'node:http';
import { LimitsConfig } from '../../config/limits.config';

/**
 * Bounds what a slow or idle client can hold: headers and whole requests must arrive in
 * time, a socket with no traffic is closed, and connections past the cap are refused.
 */
export function applyServerLimits(server: Server, limits: LimitsConfig): void {
  server.headersTimeout = limits.httpHeadersTimeoutMs;
  server.requestTimeout = limits.httpRequestTimeoutMs;
  server.maxConnections = limits.httpMaxConnections;
  // Idle sockets (a body that stopped arriving, a keep-alive never reused) are destroyed;
  // `idleOnlyWhileReading` lifts this while the service works on an answer.
  server.setTimeout(limits.httpIdleTimeoutMs, (socket) => socket.destroy());
  server.keepAliveTimeout = Math.min(server.keepAliveTimeout, limits.httpIdleTimeoutMs);
}

/**
 * Registered after the body parser: once a request has arrived, a slow answer (a busy
 * database, a loaded machine) must not look like an idle client, so the socket's idle
 * timeout is lifted until the answer is sent, then set again for the next request.
 */
export function idleOnlyWhileReading(idleMs: number): RequestHandler {
  return (req, res, next) => {
    req.socket.setTimeout(0);
    res.once('finish', () => req.socket.setTimeout(idleMs));
    next();
  };
}
