import { RequestHandler } from 'express';

interface RouteLayer {
  route?: { path: string; methods: Record<string, boolean> };
  match(path: string): boolean;
}

/**
 * Answers 405 with `Allow` when a path exists but not for the request's method (a PUT to
 * a document, say), where the router alone would answer 404 and suggest the path is
 * wrong. Reads the routes the application registered, so new routes need nothing here.
 */
export function methodNotAllowed(routerStack: () => readonly unknown[]): RequestHandler {
  return (req, res, next) => {
    if (req.method === 'OPTIONS') return next();
    const allowed = new Set<string>();
    for (const layer of routerStack() as RouteLayer[]) {
      // Middleware bound to every path (`/{*path}`, all methods) is not a route of the API.
      if (!layer.route || String(layer.route.path).includes('{*') || !layer.match(req.path)) continue;
      for (const [method, on] of Object.entries(layer.route.methods)) if (on && method !== '_all') allowed.add(method.toUpperCase());
    }
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    if (allowed.size === 0 || allowed.has(method)) return next();
    if (allowed.has('GET')) allowed.add('HEAD');
    const allow = [...allowed].sort().join(', ');
    res.setHeader('Allow', allow);
    res.status(405).json({ statusCode: 405, error: 'Method Not Allowed', message: `${req.method} is not allowed on ${req.path}; allowed: ${allow}` });
  };
}
