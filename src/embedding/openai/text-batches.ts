import { estimateTokens } from '../token-estimate';

/** A group of texts sent in one request, with its estimated token count. */
export interface TextBatch {
  texts: string[];
  tokens: number;
}

/**
 * Splits `texts` (order kept) into batches of at most `maxSize` texts and at most
 * `maxTokens` estimated tokens; a single text above `maxTokens` forms its own batch.
 */
export function batchTexts(texts: readonly string[], maxSize: number, maxTokens: number): TextBatch[] {
  const batches: TextBatch[] = [];
  let current: TextBatch = { texts: [], tokens: 0 };
  for (const text of texts) {
    const t = estimateTokens(text);
    if (current.texts.length > 0 && (current.texts.length >= maxSize || current.tokens + t > maxTokens)) {
      batches.push(current);
      current = { texts: [], tokens: 0 };
    }
    current.texts.push(text);
    current.tokens += t;
  }
  if (current.texts.length > 0) batches.push(current);
  return batches;
}
