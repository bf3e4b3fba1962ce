/**
 * One "worker process" for the shared-rate-budget test: embeds single texts through the
 * OpenAI-compatible provider and its Redis rate budget, from `concurrency` loops, for
 * `durationMs`. Protocol over the IPC channel (started with `fork`, `-r register-ts.js`):
 * sends `{ ready: true }` once loaded, waits for `{ startAt }` (epoch ms, so several
 * processes start together), then sends its {@link LoadSummary} and exits.
 */
import { OpenAiEmbeddingProvider } from '../../src/embedding/openai/openai-embedding.provider';
import { RedisRateBudget } from '../../src/embedding/rate-budget';
import { EmbeddingError } from '../../src/embedding/embedding.errors';

/** Options passed as the first argument (JSON). */
export interface LoadOptions {
  baseUrl: string;
  redisHost: string;
  redisPort: number;
  keyPrefix: string;
  requestsPerMinute: number;
  tokensPerMinute: number;
  dimension: number;
  concurrency: number;
  durationMs: number;
}

/** What the process prints when done. */
export interface LoadSummary {
  pid: number;
  succeeded: number;
  transientFailures: number;
  requests: number;
}

async function main(): Promise<void> {
  const o = JSON.parse(process.argv[2]) as LoadOptions;
  // Node loads its fetch implementation on first use, which can take longer than a
  // budget interval on a busy machine; warm it (the fake does not record this call) so
  // that the measured timestamps reflect the budget, not a cold start.
  await fetch(`${o.baseUrl}/models`).then((r) => r.arrayBuffer()).catch(() => undefined);
  const started = new Promise<number>((resolve) => process.once('message', (m: { startAt: number }) => resolve(m.startAt)));
  process.send?.({ ready: true });
  const startAt = await started;
  const budget = RedisRateBudget.connect(
    { host: o.redisHost, port: o.redisPort },
    { keyPrefix: o.keyPrefix, requestsPerMinute: o.requestsPerMinute, tokensPerMinute: o.tokensPerMinute },
  );
  const provider = new OpenAiEmbeddingProvider({
    baseUrl: o.baseUrl,
    model: 'fake-embed',
    dimension: o.dimension,
    maxRetries: 10,
    backoffBaseMs: 100,
    timeoutMs: 10000,
    budget,
  });
  await new Promise((r) => setTimeout(r, Math.max(0, startAt - Date.now())));

  const deadline = startAt + o.durationMs;
  const summary: LoadSummary = { pid: process.pid, succeeded: 0, transientFailures: 0, requests: 0 };
  let n = 0;
  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      while (Date.now() < deadline) {
        try {
          const r = await provider.embedWithUsage([`process ${process.pid} text ${n++}`]);
          summary.succeeded++;
          summary.requests += r.requests;
        } catch (err) {
          if (!(err instanceof EmbeddingError) || !err.transient) throw err;
          summary.transientFailures++;
        }
      }
    }),
  );
  await provider.close();
  process.send?.(summary, undefined, {}, () => process.disconnect());
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
