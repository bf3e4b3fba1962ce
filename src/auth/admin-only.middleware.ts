import { HttpException, Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { Authenticator } from './authenticator';
import { hasScope } from './principal';

/**
 * For what is mounted as plain Express middleware (queue dashboards), which Nest guards never see:
 * `consumer.apply(AdminOnlyMiddleware).forRoutes('/queues')` lets only admin keys (or anyone in open mode) through.
 */
@Injectable()
export class AdminOnlyMiddleware implements NestMiddleware {
  constructor(private readonly authenticator: Authenticator) {}

  async use(req: Request, res: Response, next: NextFunction): Promise<void> {
    try {
      const apiKey = req.headers['x-api-key'];
      const principal = await this.authenticator.authenticate({
        authorization: req.headers.authorization,
        apiKey: Array.isArray(apiKey) ? apiKey[0] : apiKey,
      });
      if (!hasScope(principal, 'admin')) {
        res.status(403).json({ statusCode: 403, error: 'Forbidden', message: 'this route needs an API key with the "admin" scope' });
        return;
      }
      next();
    } catch (err) {
      if (!(err instanceof HttpException)) return next(err);
      if (err.getStatus() === 401) res.setHeader('WWW-Authenticate', 'Bearer');
      res.status(err.getStatus()).json(err.getResponse());
    }
  }
}
