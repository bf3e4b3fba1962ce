import { NestExpressApplication } from '@nestjs/platform-express';

/** One method and path the HTTP server answers, in OpenAPI's path syntax (`/v1/documents/{id}`). */
export interface ServedRoute {
  method: string;
  path: string;
}

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
}

/**
 * Every route registered on the app's Express router at run time, whoever registered it (Nest controllers,
 * or code that adds routes to the adapter directly). Middleware (`app.use`) is not a route and is left out.
 */
export function servedRoutes(app: NestExpressApplication): ServedRoute[] {
  const express = app.getHttpAdapter().getInstance() as { router?: { stack: Layer[] }; _router?: { stack: Layer[] } };
  const stack = (express.router ?? express._router)?.stack ?? [];
  const routes: ServedRoute[] = [];
  for (const layer of stack) {
    // Middleware bound to every path (`/{*path}`, all methods) is not a route.
    if (!layer.route || String(layer.route.path).includes('{*')) continue;
    const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
    for (const path of paths) {
      for (const [method, on] of Object.entries(layer.route.methods)) {
        if (on && method !== '_all') routes.push({ method, path: path.replace(/:([A-Za-z0-9_]+)/g, '{$1}') });
      }
    }
  }
  return routes;
}
