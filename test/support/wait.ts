/** How long to keep polling, and how often. */
export interface PollOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * Polls `probe` until `accept` holds for what it returns, and returns that value; fails
 * after `timeoutMs` naming `what` and the last value seen. For waiting until something
 * happens, never for concluding that something did not.
 */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T> | T,
  accept: (value: T) => boolean,
  { timeoutMs = 30000, intervalMs = 50 }: PollOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
