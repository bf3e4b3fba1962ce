import type { NextFunction, Request, Response } from 'express';
import { httpRequestDuration } from './service-metrics';

/** Label of a request no route matched (404s, scanners): one value, however many paths are tried. */
export const UNMATCHED_ROUTE = 'unmatched';

// Nest answers unmatched paths from a catch-all route (`/{*path}`): that is no route of ours.
const isCatchAll = (template: string): boolean => template.startsWith('/{*') || template === '*';

/**
 * Times every request into `http_request_duration_seconds`, labelled with the route
 * template (`/v1/documents/:id`), never the raw path, so ids do not multiply series.
 * Requests under a mounted app (`mounts`, such as the queue dashboard) count as that mount.
 */
export function httpMetrics(mounts: string[] = []) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const end = httpRequestDuration.startTimer();
    const path = req.path;
    res.once('finish', () => {
      const mount = mounts.find((m) => path === m || path.startsWith(`${m}/`));
      const template = (req.route as { path?: unknown } | undefined)?.path;
      const route = mount !== undefined ? `${mount}/*` : typeof template === 'string' && !isCatchAll(template) ? template : UNMATCHED_ROUTE;
      end({ route, method: req.method, status_code: String(res.statusCode) });
    });
    next();
  };
}
