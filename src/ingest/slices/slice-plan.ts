/** One slice of a document: the chunks with index in [from, to). */
export interface SliceRange {
  slice: number;
  from: number;
  to: number;
}

/**
 * Cuts a document's `chunkCount` chunks into slices of `chunksPerSlice` (the last one
 * shorter). Slices are ranges of chunk indexes, so a chunk's index and id are those the
 * whole document gives it, whichever slice embeds it.
 */
export function planSlices(chunkCount: number, chunksPerSlice: number): SliceRange[] {
  if (!Number.isInteger(chunksPerSlice) || chunksPerSlice < 1) throw new RangeError(`chunks per slice must be a positive integer, not ${chunksPerSlice}`);
  const slices: SliceRange[] = [];
  for (let from = 0; from < chunkCount; from += chunksPerSlice) {
    slices.push({ slice: slices.length, from, to: Math.min(chunkCount, from + chunksPerSlice) });
  }
  return slices;
}
