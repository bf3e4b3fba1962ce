import { PipelineConfig } from '../pipeline';

/**
 * Why the chunking a caller asked for steps too little, or null. Each chunk starts `size
 * - overlap` after the one before, so an overlap near the size makes one chunk per few
 * characters (size 50, overlap 49 turns 100 KB into 100,000 chunks).
 */
export function overlapProblem(size: number, overlap: number): string | null {
  return overlap * 2 > size ? `chunking.overlap (${overlap}) may be at most half of chunking.size (${size})` : null;
}

/**
 * Why a document would make too many chunks, or null: one sized in characters may not
 * make more than `maxChunks`. Sizes in tokens are checked by the worker once the text is split.
 */
export function chunkCostProblem(
  chunking: Pick<PipelineConfig, 'chunkSize' | 'chunkOverlap' | 'chunkUnit'>,
  contentLength: number,
  maxChunks: number,
): string | null {
  const { chunkSize: size, chunkOverlap: overlap } = chunking;
  if (chunking.chunkUnit === 'tokens') return null;
  const chunks = contentLength <= size ? 1 : Math.ceil((contentLength - overlap) / (size - overlap));
  if (chunks <= maxChunks) return null;
  return `content of ${contentLength} characters would make about ${chunks} chunks of ${size}; a document may make at most ${maxChunks}: send a larger chunking.size or split the document`;
}

/** Most chunks a document of `contentLength` characters may make: one over SLICE_THRESHOLD_CHARS is embedded in slices, under SLICE_MAX_CHUNKS. */
export function maxChunksFor(config: { limits: { maxChunksPerDocument: number }; slices: { thresholdChars: number; maxChunks: number } }, contentLength: number): number {
  return contentLength > config.slices.thresholdChars ? config.slices.maxChunks : config.limits.maxChunksPerDocument;
}
