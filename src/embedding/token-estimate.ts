/**
 * Approximate token count of a text for BPE tokenizers such as OpenAI's cl100k/o200k:
 * about 4 bytes of UTF-8 per token. Counting bytes rather than characters keeps the
 * estimate from collapsing on non-Latin scripts (a CJK character is 3 bytes and close
 * to one token, where `chars / 4` would say a quarter). Used for batch sizing and for
 * the shared tokens-per-minute budget before the provider reports real usage.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(Buffer.byteLength(text, 'utf8') / 4);
}

/** Sum of {@link estimateTokens} over `texts`. */
export function estimateTotalTokens(texts: readonly string[]): number {
  let total = 0;
  for (const t of texts) total += estimateTokens(t);
  return total;
}
