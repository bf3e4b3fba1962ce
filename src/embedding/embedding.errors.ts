/**
 * Raised by embedding providers. `transient` says whether trying again later may
 * succeed (timeouts, 429, 5xx) or never will (bad input, auth, wrong dimension).
 */
export class EmbeddingError extends Error {
  constructor(
    message: string,
    readonly transient: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'EmbeddingError';
  }
}
