import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Application, NextFunction, Request, Response } from 'express';
import { AdminOnlyMiddleware } from '../../../auth/admin-only.middleware';

type Gate = (req: Request, res: Response, next: NextFunction) => void;

const GATE_KEY = 'queueDashboardGate';

/**
 * Runs before every request to the queue dashboard. Bull Board is mounted as Express
 * middleware, so Nest guards never see its requests: the admin check is looked up on the
 * Express app the request reached (set by DashboardAccessBinding), so each app in a
 * process checks with its own keys. No gate bound means the dashboard is refused.
 */
export function dashboardAccess(req: Request, res: Response, next: NextFunction): void {
  const gate = (req.app as Application).locals[GATE_KEY] as Gate | undefined;
  if (!gate) {
    res.status(503).json({ statusCode: 503, error: 'Service Unavailable', message: 'the queue dashboard is starting' });
    return;
  }
  gate(req, res, next);
}

/** Binds the admin-only check to this app's dashboard. */
@Injectable()
export class DashboardAccessBinding implements OnModuleInit {
  constructor(
    private readonly adapter: HttpAdapterHost,
    private readonly adminOnly: AdminOnlyMiddleware,
  ) {}

  onModuleInit(): void {
    const app = this.adapter.httpAdapter.getInstance<Application>();
    const gate: Gate = (req, res, next) => void this.adminOnly.use(req, res, next);
    app.locals[GATE_KEY] = gate;
  }
}
