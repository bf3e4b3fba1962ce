import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

/**
 * Keeps worker processes (src/worker.ts, run from the TypeScript sources) running the way
 * an orchestrator would: each one that exits is started again. Counts the exits.
 */
export class WorkerSupervisor {
  private readonly children = new Set<ChildProcess>();
  private stopped = false;
  exits = 0;
  /** Last lines of every child's output, for failure messages. */
  readonly log: string[] = [];

  constructor(private readonly env: Record<string, string>) {}

  start(count: number): void {
    for (let i = 0; i < count; i++) this.spawnOne(i);
  }

  private spawnOne(slot: number): void {
    const root = path.join(__dirname, '..', '..');
    const child = spawn(process.execPath, ['-r', path.join(__dirname, 'register-ts.js'), path.join(root, 'src', 'worker.ts')], {
      cwd: root,
      env: { ...process.env, ...this.env, WORKER_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.children.add(child);
    const keep = (chunk: Buffer): void => {
      this.log.push(...chunk.toString().split('\n').filter(Boolean).map((l) => `[w${slot}] ${l}`));
      this.log.splice(0, Math.max(0, this.log.length - 200));
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('exit', () => {
      this.children.delete(child);
      if (this.stopped) return;
      this.exits++;
      this.spawnOne(slot);
    });
  }

  /** Process ids of the running workers. */
  pids(): number[] {
    return [...this.children].flatMap((c) => (c.pid === undefined ? [] : [c.pid]));
  }

  /** Kills every running worker at once (SIGKILL, nothing drained); each is started again, as after a crash. */
  crash(): void {
    for (const c of this.children) c.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const exits = [...this.children].map((c) => new Promise((resolve) => c.once('exit', resolve)));
    for (const c of this.children) c.kill('SIGKILL');
    await Promise.all(exits);
  }
}
