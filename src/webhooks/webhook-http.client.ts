import { lookup as dnsLookup, LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, request } from 'undici';
import { addressRefusal, hostOf, parseWebhookUrl, UnsafeUrlError } from './url-safety';

/** What a receiver answered (or why there was no answer). */
export interface WebhookResponse {
  statusCode: number | null;
  /** The start of the answer's body, at most MAX_BODY_BYTES, for the delivery record. */
  body: string;
  error: string | null;
}

// Enough to show a receiver's error message; a receiver cannot make the worker read more.
const MAX_BODY_BYTES = 4096;

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * POSTs webhooks without letting a URL reach inside the network: IP literals are judged
 * before connecting, names at connect time by the agent's `lookup` (so a DNS answer that
 * changed since registration is caught), redirects are not followed, the call is bounded
 * by `timeoutMs`, and at most a few KB of the answer are read.
 */
export class WebhookHttpClient {
  private readonly agent: Agent;

  constructor(
    private readonly timeoutMs: number,
    private readonly allowPrivateNetworks: boolean,
  ) {
    this.agent = new Agent({
      connect: { timeout: timeoutMs, lookup: (hostname, options, callback) => this.checkedLookup(hostname, options, callback as LookupCallback) },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  }

  async post(rawUrl: string, headers: Record<string, string>, body: string): Promise<WebhookResponse> {
    try {
      const url = parseWebhookUrl(rawUrl);
      const host = hostOf(url);
      if (!this.allowPrivateNetworks && isIP(host)) {
        const refusal = addressRefusal(host);
        if (refusal) throw new UnsafeUrlError(`${url.origin} is refused: ${refusal}`);
      }
      const res = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'ingest-service-webhooks', ...headers },
        body,
        dispatcher: this.agent,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      return { statusCode: res.statusCode, body: await readAtMost(res.body, MAX_BODY_BYTES), error: null };
    } catch (err) {
      return { statusCode: null, body: '', error: describe(err) };
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  private checkedLookup(hostname: string, options: { all?: boolean; family?: number | string }, callback: LookupCallback): void {
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => {
      if (err) return callback(err, []);
      if (!this.allowPrivateNetworks) {
        for (const { address } of addresses) {
          const refusal = addressRefusal(address);
          if (refusal) return callback(new UnsafeUrlError(`host ${hostname} is refused: ${refusal}`), []);
        }
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(new UnsafeUrlError(`host ${hostname} does not resolve`), []);
      callback(null, first.address, first.family);
    });
  }
}

async function readAtMost(body: AsyncIterable<Buffer> & { destroy(): void }, limit: number): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      parts.push(chunk);
      size += chunk.length;
      if (size >= limit) break;
    }
  } finally {
    body.destroy();
  }
  return Buffer.concat(parts).subarray(0, limit).toString('utf8');
}

function describe(err: unknown): string {
  if (err instanceof UnsafeUrlError) return err.message;
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : null;
  if (cause instanceof UnsafeUrlError) return cause.message;
  if (err instanceof Error) return `${err.name}: ${err.message}${cause ? ` (${cause.message})` : ''}`;
  return String(err);
}
