import { chunkCostProblem, maxChunksFor, overlapProblem } from './chunk-cost';

describe('chunkCostProblem / overlapProblem', () => {
  const chars = (chunkSize: number, chunkOverlap: number) => ({ chunkSize, chunkOverlap, chunkUnit: 'chars' as const });

  it('refuses an overlap of more than half the size', () => {
    expect(overlapProblem(50, 49)).toBe('chunking.overlap (49) may be at most half of chunking.size (50)');
    expect(overlapProblem(50, 25)).toBeNull();
  });

  it('refuses content that would make more chunks than allowed, and accepts the same at the limit', () => {
    // step 900: 9,000,150 characters make 10,000 chunks.
    expect(chunkCostProblem(chars(1000, 100), 9000100, 10000)).toBeNull();
    expect(chunkCostProblem(chars(1000, 100), 9000101, 10000)).toMatch(/would make about 10001 chunks of 1000; a document may make at most 10000/);
  });

  it('leaves token-sized documents to the worker', () => {
    expect(chunkCostProblem({ chunkSize: 200, chunkOverlap: 30, chunkUnit: 'tokens' }, 100_000_000, 10)).toBeNull();
  });

  it('bounds a document over the slice threshold by SLICE_MAX_CHUNKS, any other by MAX_CHUNKS_PER_DOCUMENT', () => {
    const config = { limits: { maxChunksPerDocument: 10000 }, slices: { thresholdChars: 2000000, maxChunks: 200000 } };
    expect(maxChunksFor(config, 2000000)).toBe(10000);
    expect(maxChunksFor(config, 2000001)).toBe(200000);
  });
});
