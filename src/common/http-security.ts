import type { NestExpressApplication } from '@nestjs/platform-express';
import type { RequestHandler } from 'express';
import type { AuthConfig } from '../config/app-config';

// The API answers JSON only: nothing it sends should run, frame or be sniffed as something else.
const HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Strict-Transport-Security': 'max-age=31536000; includeSubDomains',
  'Cache-Control': 'no-store',
};
const API_CSP = "default-src 'none'; frame-ancestors 'none'";
// The queue dashboard is a page: its own scripts, inline styles and the font stylesheet it links.
const DASHBOARD_CSP =
  "default-src 'self'; style-src 'self' 'unsafe-inline' https://fonts.googleapis.com; font-src 'self' https://fonts.gstatic.com; " +
  "img-src 'self' data:; frame-ancestors 'none'";
const DASHBOARD_PATH = '/admin/queues';

/** Security headers on every answer (an HTML docs page keeps its scripts), no X-Powered-By, CORS only for listed origins. */
export function applyHttpSecurity(app: NestExpressApplication, auth: AuthConfig): void {
  app.disable('x-powered-by');
  app.use(securityHeaders());
  if (auth.corsOrigins.length > 0) {
    app.enableCors({
      origin: auth.corsOrigins,
      methods: ['GET', 'POST', 'DELETE'],
      allowedHeaders: ['Authorization', 'X-Api-Key', 'Content-Type', 'Idempotency-Key'],
      exposedHeaders: ['Retry-After', 'X-RateLimit-Limit', 'X-RateLimit-Remaining'],
      maxAge: 600,
    });
  }
}

export function securityHeaders(): RequestHandler {
  return (req, res, next) => {
    for (const [name, value] of Object.entries(HEADERS)) res.setHeader(name, value);
    if (req.path.startsWith(DASHBOARD_PATH)) res.setHeader('Content-Security-Policy', DASHBOARD_CSP);
    else if (!req.path.startsWith('/docs')) res.setHeader('Content-Security-Policy', API_CSP);
    next();
  };
}
