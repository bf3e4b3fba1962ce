import { FuzzContext, FuzzRequest, ROUTE_FAMILIES, RouteFamily, Rng, generateRequest } from './fuzz-generator';

export interface FuzzOptions {
  baseUrl: string;
  seed: number;
  requestsPerFamily: number;
  /**
   * Requests in flight at once. With 1 a seed reproduces every request exactly; with more,
   * which earlier answers a request may aim at (ids of accepted documents) depends on timing.
   */
  concurrency: number;
  bodyLimitBytes: number;
  maxTopK: number;
}

export interface FuzzResult {
  seed: number;
  /** Status codes seen, per route family. */
  statuses: Record<RouteFamily, Record<number, number>>;
  /** Requests answered with a 5xx or not answered at all. */
  failures: Array<{ request: string; status: number | string }>;
  /** Accepted documents (never deleted by the run) that are gone afterwards. */
  lost: string[];
  readyAfter: boolean;
  elapsedMs: number;
}

/** A short, reproducible description of a request for a failure report. */
function describe(r: FuzzRequest): string {
  const body = r.body === undefined ? '' : ` ${r.contentType} ${r.body.length > 300 ? `${r.body.slice(0, 300)}… (${r.body.length} chars)` : r.body}`;
  return `${r.method} ${r.path.length > 300 ? `${r.path.slice(0, 300)}…` : r.path}${body}`;
}

/**
 * Sends `requestsPerFamily` generated requests to every route family (interleaved, a few
 * at once) and checks the service held: no 5xx, still ready, and every document it
 * accepted (and the run did not delete) still there.
 */
export async function runFuzz(o: FuzzOptions): Promise<FuzzResult> {
  const started = Date.now();
  const rng = new Rng(o.seed);
  const accepted = new Set<string>();
  const deleted = new Set<string>();
  const ctx: FuzzContext = { knownIds: () => [...accepted], bodyLimitBytes: o.bodyLimitBytes, maxTopK: o.maxTopK };
  const statuses = Object.fromEntries(ROUTE_FAMILIES.map((f) => [f, {}])) as FuzzResult['statuses'];
  const failures: FuzzResult['failures'] = [];

  // Generated up front, in order, so the seed alone fixes every request.
  const plan: RouteFamily[] = ROUTE_FAMILIES.flatMap((f) => Array<RouteFamily>(o.requestsPerFamily).fill(f));
  for (let i = plan.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [plan[i], plan[j]] = [plan[j], plan[i]];
  }
  let next = 0;
  const send = async (): Promise<void> => {
    while (next < plan.length) {
      const i = next++;
      // Each request has a generator of its own, so request i is the same whatever came before.
      const req = generateRequest(new Rng((o.seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0), plan[i], ctx);
      let status: number | string;
      try {
        const res = await fetch(`${o.baseUrl}${req.path}`, {
          method: req.method,
          headers: req.contentType ? { 'content-type': req.contentType } : {},
          body: req.body,
          signal: AbortSignal.timeout(30000),
        });
        status = res.status;
        const text = req.method === 'HEAD' ? '' : await res.text();
        if (req.family === 'documents-post' && (status === 202 || status === 200)) accepted.add((JSON.parse(text) as { id: string }).id);
        if (req.family === 'documents-delete' && status === 204) deleted.add(Buffer.from((req.path.split('/').pop() as string).replace(/%/g, ''), 'hex').toString('utf8'));
      } catch (err) {
        status = `no answer: ${err instanceof Error ? err.message : String(err)}`;
      }
      if (typeof status === 'number') statuses[req.family][status] = (statuses[req.family][status] ?? 0) + 1;
      if (typeof status !== 'number' || status >= 500) failures.push({ request: describe(req), status });
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, send));

  const readyAfter = (await fetch(`${o.baseUrl}/health/ready`)).status === 200;
  const lost: string[] = [];
  for (const id of accepted) {
    if (deleted.has(id)) continue;
    if ((await fetch(`${o.baseUrl}/v1/documents/${id}`)).status !== 200) lost.push(id);
  }
  return { seed: o.seed, statuses, failures, lost, readyAfter, elapsedMs: Date.now() - started };
}

/** The result as a few lines: requests and status codes per family, then any failure. */
export function formatFuzzResult(r: FuzzResult): string {
  const lines = [`fuzz seed ${r.seed}: ${(r.elapsedMs / 1000).toFixed(1)} s, ready after: ${r.readyAfter}, lost documents: ${r.lost.length}`];
  for (const [family, codes] of Object.entries(r.statuses)) {
    const total = Object.values(codes).reduce((a, b) => a + b, 0);
    lines.push(`  ${family.padEnd(20)} ${String(total).padStart(6)}  ${Object.entries(codes).map(([c, n]) => `${c}×${n}`).join(' ')}`);
  }
  for (const f of r.failures.slice(0, 20)) lines.push(`  FAIL ${f.status}: ${f.request}`);
  if (r.failures.length > 20) lines.push(`  … and ${r.failures.length - 20} more failures`);
  return lines.join('\n');
}

/** True when the service held. */
export function fuzzPassed(r: FuzzResult): boolean {
  return r.failures.length === 0 && r.lost.length === 0 && r.readyAfter;
}
