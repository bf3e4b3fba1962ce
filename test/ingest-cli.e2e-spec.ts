import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { TestApp, startApp } from './support/test-app';

const CLI = path.join(__dirname, '..', 'src', 'cli', 'ingest-cli.ts');
const REGISTER = path.join(__dirname, 'support', 'register-ts.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI as a user would, in its own process, against `url`. */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['-r', REGISTER, CLI, ...args],
      { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 90000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** `outcome  n` rows of the summary table. */
function counts(stdout: string): Record<string, number> {
  return Object.fromEntries([...stdout.matchAll(/^(ready|deduplicated|queued|processing|failed|skipped)\s+(\d+)/gm)].map((m) => [m[1], Number(m[2])]));
}

describe('ingest-cli against the real service', () => {
  let t: TestApp;
  let dir: string;
  const namespace = `cli-${Date.now()}`;

  beforeAll(async () => {
    t = await startApp();
    dir = mkdtempSync(path.join(os.tmpdir(), 'ingest-cli-'));
    mkdirSync(path.join(dir, 'guides'));
    writeFileSync(path.join(dir, 'backups.md'), '# Backups\n\nRun the nightly backup with pg_dump and keep seven days of archives.');
    writeFileSync(path.join(dir, 'guides', 'restore.txt'), 'To restore a database, create it empty and feed the dump to psql.');
    writeFileSync(path.join(dir, 'logo.png'), 'not a document');
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('add --wait sends every supported file and follows it to ready; a second run recognises them', async () => {
    const first = await cli(['add', dir, '--namespace', namespace, '--wait', '--concurrency', '2'], { INGEST_URL: t.url });
    expect(first.stderr).not.toMatch(/ingest-cli:/);
    expect(first.code).toBe(0);
    expect(counts(first.stdout)).toMatchObject({ ready: 2, failed: 0, skipped: 1 });

    const posts = async (): Promise<number> => {
      const scrape = await (await fetch(`${t.url}/metrics`)).text();
      const line = scrape.split('\n').find((l) => l.startsWith('http_request_duration_seconds_count{') && l.includes('route="/v1/documents"') && l.includes('method="POST"'));
      return line ? Number(line.split(' ').pop()) : 0;
    };
    const postsBefore = await posts();
    expect(postsBefore).toBeGreaterThan(0);
    const second = await cli(['add', dir, '--namespace', namespace, '--wait', '--url', t.url]);
    expect(second.code).toBe(0);
    expect(counts(second.stdout)).toMatchObject({ deduplicated: 2, failed: 0 });
    // Unchanged files are recognised from the namespace's listing: nothing is sent again.
    expect(await posts()).toBe(postsBefore);

    // The relative path is the externalId: a changed file is a new version of the same document.
    writeFileSync(path.join(dir, 'guides', 'restore.txt'), 'To restore a database, create it empty, then run psql with the dump file.');
    const third = await cli(['add', dir, '--namespace', namespace, '--wait', '--url', t.url]);
    expect(counts(third.stdout)).toMatchObject({ ready: 1, deduplicated: 1 });
    const list = (await (await fetch(`${t.url}/v1/documents?namespace=${namespace}`)).json()) as { items: Array<{ externalId: string; version: number }> };
    expect(list.items.map((d) => [d.externalId, d.version]).sort()).toEqual([
      ['backups.md', 1],
      ['guides/restore.txt', 2],
    ]);
  });

  it('search finds the passage; status reports the service ready', async () => {
    const found = await cli(['search', 'how do I bring a database back from a dump?', '--namespace', namespace, '--url', t.url]);
    expect(found.code).toBe(0);
    expect(found.stdout).toMatch(/^1\. guides\/restore\.txt #0/m);

    const status = await cli(['status', '--url', t.url, '--namespace', namespace]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/: ready\n/);
    expect(status.stdout).toMatch(/"documents": 2/);
  });

  it('a file the service refuses is reported with its reason and the exit code is 1', async () => {
    const bad = mkdtempSync(path.join(os.tmpdir(), 'ingest-cli-bad-'));
    try {
      writeFileSync(path.join(bad, 'good.md'), 'A fine document.');
      writeFileSync(path.join(bad, 'blank.md'), '   \n');
      const run = await cli(['add', bad, '--namespace', namespace, '--wait', '--url', t.url]);
      expect(run.code).toBe(1);
      expect(counts(run.stdout)).toMatchObject({ ready: 1, failed: 1 });
      expect(run.stdout).toMatch(/^blank\.md\s+.*no extractable text/m);
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });

  it('sends the API key as a bearer token and explains a 401', async () => {
    const seen: Array<string | undefined> = [];
    const guard: Server = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ statusCode: 401, message: 'API key required' }));
    });
    await new Promise<void>((r) => guard.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(guard.address() as { port: number }).port}`;
      const run = await cli(['search', 'anything', '--url', url], { INGEST_API_KEY: 'k-123' });
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/401 API key required \(set --api-key or INGEST_API_KEY\)/);
      expect(seen).toEqual(['Bearer k-123']);
    } finally {
      guard.close();
    }
  });

  it('says where it looked when the service is unreachable', async () => {
    const run = await cli(['status', '--url', 'http://127.0.0.1:9']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/is the service at http:\/\/127\.0\.0\.1:9\?/);
  });
});
