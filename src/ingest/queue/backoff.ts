/** Name of the backoff type whose delays `cappedJitteredBackoff` computes. */
export const CAPPED_BACKOFF = 'capped-exponential-jitter';

/**
 * Exponential backoff with "full jitter" between half and all of base * 2^(n-1), capped
 * at `maxMs`: retries of many documents that failed together (an outage) spread out
 * instead of hammering the recovering dependency in lockstep.
 */
export function cappedJitteredBackoff(baseMs: number, maxMs: number, random: () => number = Math.random) {
  return (attemptsMade: number): number => {
    const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attemptsMade - 1));
    return Math.round(ceiling / 2 + random() * (ceiling / 2));
  };
}
