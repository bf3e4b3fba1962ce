import { ChunkHit } from '../chunk.repository';

/** What a hit adds to an answer, in characters: its text, context and metadata. */
function hitCost(h: ChunkHit): number {
  return h.content.length + (h.context?.length ?? 0) + JSON.stringify(h.metadata).length + (h.title?.length ?? 0);
}

/**
 * The best hits whose text fits in `maxChars` (always at least the best one): topK times
 * large chunks with large metadata could otherwise make an answer of tens of megabytes.
 */
export function withinAnswerBudget(hits: ChunkHit[], maxChars: number): ChunkHit[] {
  let used = 0;
  const kept: ChunkHit[] = [];
  for (const h of hits) {
    used += hitCost(h);
    if (kept.length > 0 && used > maxChars) break;
    kept.push(h);
  }
  return kept;
}
