import { NestExpressApplication } from '@nestjs/platform-express';
import { randomUUID } from 'node:crypto';
import { AppOptions, Roles } from '../../src/app.module';
import { createApp } from '../../src/bootstrap';
import { AppConfig, loadConfig } from '../../src/config/app-config';

export interface TestApp {
  app: NestExpressApplication;
  config: AppConfig;
  url: string;
  close(): Promise<void>;
}

/**
 * Starts the real service (HTTP on a random port, real Postgres, real Redis) with its
 * own queue prefix, so test files never see each other's jobs.
 */
export async function startApp(
  env: Record<string, string> = {},
  roles: Roles = { api: true, worker: true },
  options: AppOptions = {},
): Promise<TestApp> {
  // Quiet JSON request logs unless a test asks for them (LOG_LEVEL in env).
  const config = loadConfig({ QUEUE_PREFIX: `test-${randomUUID().slice(0, 8)}`, LOG_LEVEL: 'fatal', ...process.env, ...env });
  const app = await createApp(config, roles, options);
  app.useLogger(['error']);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return { app, config, url: `http://127.0.0.1:${address.port}`, close: () => app.close() };
}

export interface DocumentStatusBody {
  id: string;
  status: string;
  version: number;
  attempts: number;
  chunkCount: number | null;
  lastError: string | null;
}

/** Polls a document until `predicate` holds, or fails after `timeoutMs`. */
export async function waitForDocument(
  baseUrl: string,
  id: string,
  predicate: (d: DocumentStatusBody) => boolean,
  timeoutMs = 30000,
): Promise<DocumentStatusBody> {
  const deadline = Date.now() + timeoutMs;
  let last: DocumentStatusBody | undefined;
  while (Date.now() < deadline) {
    const res = await fetch(`${baseUrl}/v1/documents/${id}`);
    if (res.status === 200) {
      last = (await res.json()) as DocumentStatusBody;
      if (predicate(last)) return last;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`document ${id} did not reach the expected state in ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
}

export const isSettled = (d: DocumentStatusBody): boolean => d.status === 'ready' || d.status === 'failed';

export async function postJson(baseUrl: string, path: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
