import { generateDocument } from './corpus';

/** One search request of the load: its body and a label to report it under. */
export interface SearchRequest {
  label: string;
  body: Record<string, unknown>;
}

/** Latency figures of one stretch of search load. */
export interface SearchStats {
  seconds: number;
  count: number;
  /** Answers other than 200, and requests that got no answer at all. */
  non200: number;
  /** 200 answers with no result. */
  empty: number;
  firstError: string | null;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** p50 and p95 per request label (mode). */
  byLabel: Map<string, { count: number; p50: number; p95: number }>;
}

/** Nearest-rank percentile of an ascending list; NaN when empty. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/**
 * Short searches on the bench corpus's topics (the topic words of two titles of documents
 * from another seed, e.g. "fertile compost greenhouse"), cycling through hybrid (chunks
 * and grouped by document), vector and keyword modes so each stretch of load has the same
 * mix. Short, as users type them: every query word widens the keyword list's matches.
 */
export function searchMix(seed: number, count: number, namespace: string): SearchRequest[] {
  const kinds: Array<{ label: string; extra: Record<string, unknown> }> = [
    { label: 'hybrid', extra: { mode: 'hybrid' } },
    { label: 'vector', extra: { mode: 'vector' } },
    { label: 'keyword', extra: { mode: 'keyword' } },
    { label: 'hybrid/doc', extra: { mode: 'hybrid', groupBy: 'document' } },
  ];
  return Array.from({ length: count }, (_, i) => {
    // Documents i and i + 8 share a topic (the corpus cycles through eight).
    const words = (j: number): string[] => generateDocument(seed, j, 100).title.replace(/:.*$/, '').toLowerCase().split(' ');
    const first = words(i);
    const third = [8, 16, 24].map((d) => words(i + d)[1]).find((w) => w !== first[1]) ?? '';
    const query = [...first, third].join(' ').trim();
    const kind = kinds[i % kinds.length];
    return { label: kind.label, body: { query, namespace, topK: 10, ...kind.extra } };
  });
}

/**
 * Closed-loop search load: `clients` concurrent clients, each sending its next request
 * as soon as the previous one answered, until `stop`. Every request is timed whatever
 * its outcome; a request with no answer within 30 s counts as non-200.
 */
export class SearchLoad {
  private stopped = false;
  private readonly samples: Array<{ label: string; ms: number }> = [];
  private non200 = 0;
  private empty = 0;
  private firstError: string | null = null;
  private clientsDone: Promise<void> = Promise.resolve();
  private startedAt = 0;

  constructor(
    private readonly apiUrl: string,
    private readonly requests: SearchRequest[],
    private readonly clients: number,
  ) {}

  start(): void {
    this.startedAt = performance.now();
    this.clientsDone = Promise.all(Array.from({ length: this.clients }, (_, c) => this.client(c))).then(() => undefined);
  }

  /** Stops the clients (each finishes its request in flight) and returns the figures. */
  async stop(): Promise<SearchStats> {
    this.stopped = true;
    await this.clientsDone;
    const seconds = (performance.now() - this.startedAt) / 1000;
    const all = this.samples.map((s) => s.ms).sort((a, b) => a - b);
    const byLabel = new Map<string, { count: number; p50: number; p95: number }>();
    for (const label of new Set(this.samples.map((s) => s.label))) {
      const xs = this.samples.filter((s) => s.label === label).map((s) => s.ms).sort((a, b) => a - b);
      byLabel.set(label, { count: xs.length, p50: percentile(xs, 50), p95: percentile(xs, 95) });
    }
    return {
      seconds,
      count: all.length,
      non200: this.non200,
      empty: this.empty,
      firstError: this.firstError,
      p50: percentile(all, 50),
      p95: percentile(all, 95),
      p99: percentile(all, 99),
      max: all[all.length - 1] ?? NaN,
      byLabel,
    };
  }

  /** Runs the load for `ms` milliseconds. */
  static async for(apiUrl: string, requests: SearchRequest[], clients: number, ms: number): Promise<SearchStats> {
    const load = new SearchLoad(apiUrl, requests, clients);
    load.start();
    await new Promise((r) => setTimeout(r, ms));
    return load.stop();
  }

  private async client(c: number): Promise<void> {
    // Clients start at different points of the mix, so modes interleave across them.
    for (let i = c * 7; !this.stopped; i++) {
      const req = this.requests[i % this.requests.length];
      const t0 = performance.now();
      try {
        const res = await fetch(`${this.apiUrl}/v1/search`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(req.body),
          signal: AbortSignal.timeout(30000),
        });
        const text = await res.text();
        if (res.status !== 200) this.fail(`${req.label}: HTTP ${res.status} ${text.slice(0, 300)}`);
        else if (((JSON.parse(text) as { results?: unknown[] }).results ?? []).length === 0) this.empty++;
      } catch (err) {
        this.fail(`${req.label}: ${String(err)}`);
      }
      this.samples.push({ label: req.label, ms: performance.now() - t0 });
    }
  }

  private fail(message: string): void {
    this.non200++;
    this.firstError ??= message;
  }
}
