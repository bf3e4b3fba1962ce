#!/usr/bin/env node
import { MultiBar, Presets } from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import { FileResult, addDocuments } from './add-documents';
import { findDocumentFiles } from './document-files';
import { ApiError, IngestClient } from './ingest-client';
import { summaryTable } from './summary-table';

/** Exit codes: something failed, or the CLI could not do its job at all (usage, service unreachable). */
const EXIT_FAILED = 1;
const EXIT_ERROR = 2;

interface GlobalOptions {
  url: string;
  apiKey?: string;
}

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('must be a whole number of at least 1');
  return Number(value);
}

function jsonObject(value: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(value);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new InvalidArgumentError('must be a JSON object, e.g. \'{"team":"ops"}\'');
}

function clientOf(command: Command): IngestClient {
  const o = command.optsWithGlobals<GlobalOptions>();
  return new IngestClient({ baseUrl: o.url, apiKey: o.apiKey });
}

const program = new Command()
  .name('ingest-cli')
  .description('Send documents to the ingest service, follow them, search them.')
  .addOption(new Option('--url <url>', 'the service').env('INGEST_URL').default('http://localhost:3000'))
  .addOption(new Option('--api-key <key>', 'API key, sent as Authorization: Bearer').env('INGEST_API_KEY'))
  .showHelpAfterError();

program
  .command('add')
  .description('post every supported file under a folder (relative path as externalId: unchanged files are recognised)')
  .argument('<path>', 'a folder or a file')
  .option('-n, --namespace <namespace>', 'namespace of the documents')
  .option('-m, --metadata <json>', 'metadata for every document, a JSON object', jsonObject)
  .option('-c, --concurrency <n>', 'files sent at once', positiveInt, 4)
  .option('-w, --wait', 'follow each document until it is ready or failed (events, else polling)', false)
  .option('--timeout <seconds>', 'with --wait: give up on a document after this long', positiveInt, 600)
  .action(async (root: string, o: { namespace?: string; metadata?: Record<string, unknown>; concurrency: number; wait: boolean; timeout: number }, command: Command) => {
    const { files, skipped } = await findDocumentFiles(root).catch((err: unknown) => {
      throw new UsageError(`cannot read ${root}: ${err instanceof Error ? err.message : String(err)}`);
    });
    if (files.length === 0) throw new UsageError(`no supported files under ${root} (${skipped.length} skipped)`);
    // Bars only on a terminal: piped or logged output gets the summary alone.
    const bars = process.stderr.isTTY
      ? new MultiBar({ clearOnComplete: false, hideCursor: true, format: ' {label} [{bar}] {value}/{total}', stream: process.stderr }, Presets.shades_classic)
      : undefined;
    const sent = bars?.create(files.length, 0, { label: 'sent ' });
    const done = o.wait ? bars?.create(files.length, 0, { label: 'ready' }) : undefined;
    let results: FileResult[];
    try {
      results = await addDocuments(clientOf(command), files, { ...o, timeoutMs: o.timeout * 1000 }, {
        sent: () => sent?.increment(),
        settled: () => done?.increment(),
      });
    } finally {
      bars?.stop();
    }
    process.stdout.write(`${summaryTable(results, skipped)}\n`);
    if (results.some((r) => r.outcome === 'failed' || r.outcome === 'processing')) process.exitCode = EXIT_FAILED;
  });

program
  .command('search')
  .description('search the documents, in your own words')
  .argument('<query>', 'the question')
  .option('-n, --namespace <namespace>', 'namespace to search')
  .option('-k, --top-k <n>', 'results', positiveInt, 5)
  .addOption(new Option('--mode <mode>', 'retrieval mode').choices(['hybrid', 'vector', 'keyword']))
  .option('--json', 'print the raw answer', false)
  .action(async (query: string, o: { namespace?: string; topK: number; mode?: string; json: boolean }, command: Command) => {
    const answer = await clientOf(command).search({ query, namespace: o.namespace, topK: o.topK, mode: o.mode });
    if (o.json) return void process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
    if (answer.results.length === 0) return void process.stdout.write('no results\n');
    answer.results.forEach((r, i) => {
      const source = r.externalId ?? r.title ?? r.documentId;
      const snippet = r.content.replace(/\s+/g, ' ').slice(0, 200);
      process.stdout.write(`${i + 1}. ${source} #${r.chunkIndex}  (score ${r.score.toFixed(4)})${r.context ? `\n   ${r.context}` : ''}\n   ${snippet}\n`);
    });
  });

program
  .command('status')
  .description("the service's readiness and queues; with an id, that document's status")
  .argument('[documentId]', 'a document id')
  .option('-n, --namespace <namespace>', "also show a namespace's usage")
  .action(async (id: string | undefined, o: { namespace?: string }, command: Command) => {
    const client = clientOf(command);
    if (id) {
      const d = await client.document(id);
      process.stdout.write(`${JSON.stringify(d, null, 2)}\n`);
      if (d.status === 'failed') process.exitCode = EXIT_FAILED;
      return;
    }
    const url = command.optsWithGlobals<GlobalOptions>().url;
    const ready = await client.readiness();
    const checks = { ...(ready.body.info as object | undefined), ...(ready.body.error as object | undefined) } as Record<string, { status: string; message?: string }>;
    process.stdout.write(`service   ${url}: ${ready.ok ? 'ready' : 'NOT READY'}\n`);
    for (const [name, c] of Object.entries(checks)) process.stdout.write(`  ${name.padEnd(10)} ${c.status}${c.message ? ` (${c.message})` : ''}\n`);
    const queues = await client.optional<unknown>('/v1/queues');
    if (queues !== null) process.stdout.write(`queues\n${indent(JSON.stringify(queues, null, 2))}\n`);
    if (o.namespace) {
      const usage = await client.request<Record<string, unknown>>('GET', `/v1/namespaces/${encodeURIComponent(o.namespace)}/usage`);
      process.stdout.write(`namespace ${o.namespace}\n${indent(JSON.stringify(usage, null, 2))}\n`);
    }
    if (!ready.ok) process.exitCode = EXIT_FAILED;
  });

class UsageError extends Error {}

function indent(text: string): string {
  return text.replace(/^/gm, '  ');
}

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ApiError) {
    const hint = err.status === 401 || err.status === 403 ? ' (set --api-key or INGEST_API_KEY)' : '';
    process.stderr.write(`ingest-cli: the service answered ${err.message}${hint}\n`);
  } else if (err instanceof UsageError) {
    process.stderr.write(`ingest-cli: ${err.message}\n`);
  } else {
    const cause = err instanceof Error && err.cause instanceof Error ? ` (${err.cause.message})` : '';
    const url = program.opts<GlobalOptions>().url;
    process.stderr.write(`ingest-cli: ${err instanceof Error ? err.message : String(err)}${cause}; is the service at ${url}?\n`);
  }
  process.exitCode = EXIT_ERROR;
});
