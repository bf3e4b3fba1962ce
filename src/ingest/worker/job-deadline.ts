import { AsyncLocalStorage } from 'node:async_hooks';

/** A Postgres connection a job holds, as the deadline needs to cut it off. */
export interface HeldConnection {
  /** The server process serving it (pg's `processID`), to end its session from another connection. */
  processID?: number;
  /** Closes the socket at once: pending queries fail, and the pool discards the client instead of reusing it. */
  destroy(): void;
}

/**
 * The time limit of one job, carried through its async work (AsyncLocalStorage) so the
 * database layer can register every connection the job checks out and the error
 * classification can tell a deadline from any other failure.
 */
export class JobDeadline {
  private readonly held = new Set<HeldConnection>();
  private expiredAt: number | null = null;
  private readonly startedAt = Date.now();

  constructor(readonly limitMs: number) {}

  /** Milliseconds left before it expires (0 once past). */
  leftMs(): number {
    return Math.max(0, this.startedAt + this.limitMs - Date.now());
  }

  get expired(): boolean {
    return this.expiredAt !== null;
  }

  /** Called by the connection tracker; returns the function to call when the connection goes back to the pool. */
  hold(connection: HeldConnection): () => void {
    this.held.add(connection);
    return () => this.held.delete(connection);
  }

  /** The deadline passed: every connection the job holds is destroyed, never returned to the pool. Returns their server pids. */
  expire(): number[] {
    this.expiredAt = Date.now();
    const pids: number[] = [];
    for (const c of this.held) {
      if (c.processID !== undefined) pids.push(c.processID);
      c.destroy();
    }
    this.held.clear();
    return pids;
  }
}

const storage = new AsyncLocalStorage<JobDeadline>();

/** Runs `work` under `deadline` (see `currentDeadline`). */
export function runWithDeadline<T>(deadline: JobDeadline, work: () => Promise<T>): Promise<T> {
  return storage.run(deadline, work);
}

/** The deadline of the job this code runs for, if any. */
export function currentDeadline(): JobDeadline | undefined {
  return storage.getStore();
}

/** Thrown to the queue when a job outlived its deadline and did not stop by itself once its connections were cut. */
export class JobDeadlineError extends Error {
  constructor(limitMs: number) {
    super(`job timed out: it exceeded its deadline of ${limitMs} ms and was aborted`);
    this.name = 'JobDeadlineError';
  }
}

/** The deadline of a document of `bytes` characters: a base, plus time per MB of text. */
export function deadlineFor(bytes: number, baseMs: number, perMbMs: number): number {
  return Math.round(baseMs + (perMbMs * bytes) / (1024 * 1024));
}
