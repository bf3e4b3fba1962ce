import { loadAverage } from './cpu-usage';

/** An integer command-line value no smaller than `min`; throws naming the flag otherwise. */
export function intFlag(flag: string, v: string | undefined, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`${flag} must be an integer >= ${min}, got ${v}`);
  return n;
}

/** A benchmark that starts service processes: it must stop them however it ends. */
export interface ProcessBench {
  logTails(): string;
  cleanup(): Promise<void>;
}

/**
 * Runs `body`, then stops the bench's processes; on failure, a signal or after
 * `timeoutSeconds`, prints why (with the processes' last log lines) and exits non-zero
 * after stopping them, so a broken run never leaves services behind.
 */
export async function runProcessBench(bench: ProcessBench, timeoutSeconds: number, body: () => Promise<void>): Promise<void> {
  const startLoad = loadAverage();
  let exiting = false;
  const stop = async (message: string, code: number): Promise<never> => {
    if (!exiting) {
      exiting = true;
      console.error(`\n${message}`);
      const tails = bench.logTails();
      if (code !== 130 && tails) console.error(tails);
      await bench.cleanup().catch((e: unknown) => console.error(`cleanup failed: ${String(e)}`));
    }
    process.exit(code);
  };
  process.once('SIGINT', () => void stop('interrupted: stopping the service processes', 130));
  process.once('SIGTERM', () => void stop('terminated: stopping the service processes', 143));
  const timer = setTimeout(() => void stop(`aborted: the benchmark did not finish within --timeout ${timeoutSeconds} s`, 2), timeoutSeconds * 1000);
  try {
    await body();
  } catch (err) {
    await stop(`benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, 1);
  }
  clearTimeout(timer);
  await bench.cleanup();
  console.log(`load average: start ${startLoad}, end ${loadAverage()}`);
}
