import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** A service process started by the benchmark, its output going to a log file. */
export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
  /** Base URL of its HTTP (health) endpoint. */
  url: string;
}

/**
 * Owns every child the benchmark starts, and ends them all: gracefully on `stopAll`,
 * with SIGKILL from the synchronous `exit` hook if the benchmark dies first, so no
 * service process outlives it.
 */
export class ChildRegistry {
  private readonly children: ServiceProcess[] = [];

  constructor() {
    process.on('exit', () => {
      for (const c of this.children) if (isRunning(c.child)) c.child.kill('SIGKILL');
    });
  }

  /** Starts `node script` with `env`; stdout and stderr go to `logFile`. */
  start(name: string, script: string, env: NodeJS.ProcessEnv, port: number, logFile: string): ServiceProcess {
    const log = createWriteStream(logFile);
    // BENCH_CHILD_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the service's processes.
    const nodeArgs = (process.env.BENCH_CHILD_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
    const child = spawn(process.execPath, [...nodeArgs, script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    const proc: ServiceProcess = { name, child, logFile, url: `http://127.0.0.1:${port}` };
    this.children.push(proc);
    return proc;
  }

  running(): ServiceProcess[] {
    return this.children.filter((c) => isRunning(c.child));
  }

  /** The last log lines of every running child, for a failed run. */
  logTails(): string {
    return this.running()
      .map((c) => `--- ${c.name} (${c.logFile})\n${tail(c.logFile)}`)
      .join('\n');
  }

  /** SIGTERM (the service closes its queue and pools), then SIGKILL after `graceMs`. */
  async stopAll(graceMs = 10000): Promise<void> {
    const alive = this.running();
    await Promise.all(
      alive.map(
        (c) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              console.error(`  ${c.name} did not stop within ${graceMs} ms: killing it`);
              c.child.kill('SIGKILL');
              resolve();
            }, graceMs);
            c.child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            c.child.kill('SIGTERM');
          }),
      ),
    );
    this.children.length = 0;
  }
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Polls `url` until it answers 200, the child exits, or `timeoutMs` passes. */
export async function waitReady(proc: ServiceProcess, path: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isRunning(proc.child)) {
      throw new Error(`${proc.name} exited (code ${proc.child.exitCode}) before it was ready:\n${tail(proc.logFile)}`);
    }
    try {
      const res = await fetch(`${proc.url}${path}`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`${proc.name} was not ready at ${proc.url}${path} within ${timeoutMs} ms:\n${tail(proc.logFile)}`);
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
