import { HashEmbeddingProvider } from './hash-embedding.provider';

const cosine = (a: number[], b: number[]): number => a.reduce((s, x, i) => s + x * b[i], 0);

describe('HashEmbeddingProvider', () => {
  const provider = new HashEmbeddingProvider(256);

  it('returns one unit vector of the configured dimension per text, in order', async () => {
    const vectors = await provider.embed(['alpha beta', 'gamma', '']);
    expect(vectors).toHaveLength(3);
    for (const v of vectors) {
      expect(v).toHaveLength(256);
      expect(Math.sqrt(cosine(v, v))).toBeCloseTo(1, 6);
    }
    expect(vectors[0]).toEqual((await provider.embed(['alpha beta']))[0]);
  });

  it('places texts sharing words closer than unrelated texts', async () => {
    const [a, b, c] = await provider.embed([
      'postgres vector index build time',
      'how long does the postgres index build take',
      'bananas ripen faster in paper bags',
    ]);
    expect(cosine(a, b)).toBeGreaterThan(cosine(a, c) + 0.2);
  });

  it('is case-insensitive and ignores punctuation', async () => {
    const [a, b] = await provider.embed(['Hello, World!', 'hello world']);
    expect(cosine(a, b)).toBeCloseTo(1, 6);
  });
});
