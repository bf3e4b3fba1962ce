import type { EnvReader } from './env-reader';

/** Large documents, embedded in slices by every worker (a parent job per document, a child job per slice). */
export interface SlicesConfig {
  /** A document whose text is longer than this (characters) is embedded in slices; shorter ones in one job. */
  thresholdChars: number;
  /** Chunks per slice job. */
  chunksPerSlice: number;
  /** Most chunks a sliced document may make (MAX_CHUNKS_PER_DOCUMENT bounds the others); over it fails as `too_large`. */
  maxChunks: number;
}

/** SLICE_THRESHOLD_CHARS, SLICE_CHUNKS, SLICE_MAX_CHUNKS. */
export function readSlices(r: EnvReader): SlicesConfig {
  return {
    thresholdChars: r.int('SLICE_THRESHOLD_CHARS', 2000000, 1, 2 ** 31 - 1),
    chunksPerSlice: r.int('SLICE_CHUNKS', 256, 1, 100000),
    maxChunks: r.int('SLICE_MAX_CHUNKS', 200000, 1, 10000000),
  };
}
