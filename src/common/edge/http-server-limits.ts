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
  // Idle sockets (a body that stopped arriving, a keep-alive never reused) are destroyed.
  server.setTimeout(limits.httpIdleTimeoutMs, (socket) => socket.destroy());
  server.keepAliveTimeout = Math.min(server.keepAliveTimeout, limits.httpIdleTimeoutMs);
}
