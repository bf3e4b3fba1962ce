import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What every log line written on behalf of one request or one job carries: the id of
 * the request that created the work and, once known, the document version it is about.
 */
export interface LogContext {
  requestId?: string;
  documentId?: string;
  version?: number;
  /** Inside an HTTP request pino-http already writes `requestId`; the mixin must not repeat it. */
  fromRequest?: boolean;
}

const storage = new AsyncLocalStorage<LogContext>();

/** Runs `work` with `context` as the current log context (a request, a job). */
export function runWithLogContext<T>(context: LogContext, work: () => T): T {
  return storage.run({ ...context }, work);
}

/** Adds the document a request or job turned out to be about, for the lines that follow. */
export function setLogDocument(documentId: string, version: number): void {
  const store = storage.getStore();
  if (store) Object.assign(store, { documentId, version });
}

/** The request id of the work under way, to hand on to the jobs it creates. */
export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

/** The fields the logger adds to each line (pino `mixin`). */
export function logContextFields(): Record<string, string | number> {
  const store = storage.getStore();
  if (!store) return {};
  const fields: Record<string, string | number> = {};
  if (store.requestId !== undefined && !store.fromRequest) fields.requestId = store.requestId;
  if (store.documentId !== undefined) fields.documentId = store.documentId;
  if (store.version !== undefined) fields.version = store.version;
  return fields;
}
