import type { NextFunction, Request, Response } from 'express';

/**
 * Runs before every request to the queue dashboard. Bull Board is mounted as Express
 * middleware, so Nest guards never see its requests: an admin credential check belongs
 * here. Until API keys exist, the dashboard is as open as the rest of the API; keep it
 * read-only (QUEUE_DASHBOARD_READ_ONLY) or off (QUEUE_DASHBOARD) where that matters.
 */
export function dashboardAccess(_req: Request, _res: Response, next: NextFunction): void {
  next();
}
