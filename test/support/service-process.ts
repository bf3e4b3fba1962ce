import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { waitUntil } from './wait';

const ROOT = path.join(__dirname, '..', '..');
const REGISTER = path.join(__dirname, 'register-ts.js');

/** One entry point of the service (`src/main.ts`, `src/worker.ts`) run as its own process. */
export class ServiceProcess {
  /** Every line the process wrote to stdout, in order. */
  readonly lines: string[] = [];
  readonly stderr: string[] = [];
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;

  constructor(entry: 'main' | 'worker', env: Record<string, string>, readonly url: string) {
    this.child = spawn(process.execPath, ['-r', REGISTER, path.join(ROOT, 'src', `${entry}.ts`)], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let partial = '';
    this.child.stdout!.on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      this.lines.push(...parts.filter((l) => l.length > 0));
    });
    this.child.stderr!.on('data', (chunk: Buffer) => this.stderr.push(chunk.toString('utf8')));
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code) => {
        if (partial.length > 0) this.lines.push(partial);
        resolve(code);
      }),
    );
  }

  /** Resolves once `/health/live` answers 200. */
  async started(timeoutMs = 180000): Promise<void> {
    await waitUntil(
      `${this.url} to answer /health/live (stderr: ${this.stderr.join('').slice(-500)})`,
      () => fetch(`${this.url}/health/live`).then((r) => r.status).catch(() => 0),
      (status) => status === 200,
      { timeoutMs, intervalMs: 200 },
    );
  }

  /** The exit code, once the process has ended on its own. */
  ended(): Promise<number | null> {
    return this.exited;
  }

  /** SIGTERM, then the exit code once the process has drained and ended. */
  stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }
}
