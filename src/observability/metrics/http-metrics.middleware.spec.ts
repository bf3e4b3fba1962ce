import { EventEmitter } from 'node:events';
import type { NextFunction, Request, Response } from 'express';
import { httpMetrics } from './http-metrics.middleware';
import { httpRequestDuration, metricsRegistry } from './service-metrics';

async function countFor(labels: Record<string, string>): Promise<number> {
  const metric = await metricsRegistry.getSingleMetric('http_request_duration_seconds')!.get();
  return (metric.values as Array<{ metricName?: string; labels: Record<string, string | number>; value: number }>)
    .filter((v) => v.metricName === 'http_request_duration_seconds_count')
    .filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))
    .reduce((n, v) => n + v.value, 0);
}

function serve(path: string, route: string | undefined, status: number): void {
  const res = Object.assign(new EventEmitter(), { statusCode: status });
  const req = { path, method: 'GET', route: route === undefined ? undefined : { path: route } };
  httpMetrics(['/admin/queues'])(req as unknown as Request, res as unknown as Response, (() => undefined) as NextFunction);
  res.emit('finish');
}

describe('httpMetrics', () => {
  beforeEach(() => httpRequestDuration.reset());

  it('labels a request with its route template, not its path', async () => {
    serve('/v1/documents/123', '/v1/documents/:id', 200);
    serve('/v1/documents/456', '/v1/documents/:id', 200);
    expect(await countFor({ route: '/v1/documents/:id', method: 'GET', status_code: '200' })).toBe(2);
  });

  it("labels unmatched paths and Nest's catch-all as one series", async () => {
    serve('/a', undefined, 404);
    serve('/b/c', '/{*path}', 404);
    expect(await countFor({ route: 'unmatched', status_code: '404' })).toBe(2);
  });

  it('labels everything under a mounted app as that mount', async () => {
    serve('/admin/queues/api/queues', '/api/queues', 200);
    serve('/admin/queues', undefined, 200);
    expect(await countFor({ route: '/admin/queues/*' })).toBe(2);
  });
});
