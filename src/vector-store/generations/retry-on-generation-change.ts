import { GenerationChangedError } from './generation';

/** Times work is prepared again when generations keep changing under it (a switch is rare; three in a row is a fault). */
const ROUNDS = 3;

/**
 * Runs `work`; when it throws `GenerationChangedError` (a re-embed switched or was
 * cancelled after the work read the generations), calls `refresh` and runs it again, up
 * to three times in all. Any other error, and the last `GenerationChangedError`, is thrown.
 */
export async function retryOnGenerationChange<T>(work: () => Promise<T>, refresh: () => void): Promise<T> {
  for (let round = 1; ; round++) {
    try {
      return await work();
    } catch (err) {
      if (!(err instanceof GenerationChangedError) || round >= ROUNDS) throw err;
      refresh();
    }
  }
}
