/**
 * One "worker process" for the shared-rate-budget test: embeds single texts through the
 * OpenAI-compatible provider and its Redis rate budget, from `concurrency` loops, until
 * `durationMs` after `startAt`; then prints a JSON summary on stdout.
 * Run: node -r ./test/support/register-ts.js test/support/embedding-load.script.ts '<json options>'
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
  /** Epoch ms at which to begin, so that several processes start together. */
  startAt: number;
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
  await new Promise((r) => setTimeout(r, Math.max(0, o.startAt - Date.now())));

  const deadline = o.startAt + o.durationMs;
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
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
