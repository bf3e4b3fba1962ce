import http from 'node:http';
import { AddressInfo } from 'node:net';
import { HashEmbeddingProvider } from '../../src/embedding/hash-embedding.provider';

/** What the faulty upstream did, for the report. */
export interface UpstreamStats {
  requests: number;
  transientFailures: number;
  rejections: number;
}

/**
 * An OpenAI-compatible embeddings endpoint that fails like a real one under stress:
 * `transientRate` of calls answer 500 (seeded, so runs repeat), and any batch holding a
 * text marked POISON-PILL is rejected with 400 every time (a permanent failure).
 */
export async function withFaultyUpstream<T>(
  run: (env: Record<string, string>) => Promise<T>,
  transientRate = 0.3,
  seed = 42,
): Promise<T> {
  const hash = new HashEmbeddingProvider(384);
  const stats: UpstreamStats = { requests: 0, transientFailures: 0, rejections: 0 };
  let s = seed;
  const rand = (): number => (s = (Math.imul(s, 48271) >>> 0) % 2147483647) / 2147483647;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      stats.requests++;
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { input: string[]; model: string };
      const reply = (status: number, payload: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      if (body.input.some((t) => t.includes('POISON-PILL'))) {
        stats.rejections++;
        return reply(400, { error: { message: 'input contains content this model cannot embed', type: 'invalid_request_error' } });
      }
      if (rand() < transientRate) {
        stats.transientFailures++;
        return reply(500, { error: { message: 'upstream overloaded', type: 'server_error' } });
      }
      void hash.embed(body.input).then((vectors) =>
        reply(200, {
          object: 'list',
          model: body.model,
          data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })),
          usage: { prompt_tokens: 0, total_tokens: 0 },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  try {
    return await run({
      EMBEDDING_PROVIDER: 'openai',
      OPENAI_BASE_URL: url,
      OPENAI_API_KEY: 'chaos',
      EMBEDDING_MODEL: 'chaos-hash-384',
      EMBEDDING_DIMENSION: '384',
      EMBEDDING_MAX_RETRIES: '0',
    });
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    console.log(`  upstream: ${stats.requests} requests, ${stats.transientFailures} answered 500, ${stats.rejections} rejected (400)`);
  }
}
