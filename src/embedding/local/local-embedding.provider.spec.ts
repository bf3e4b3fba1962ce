import { EmbeddingError } from '../embedding.errors';
import { LocalEmbeddingProvider } from './local-embedding.provider';

// sentence-transformers/all-MiniLM-L6-v2, "This is an example sentence" (published model card output)
const REFERENCE = [0.0677, 0.0636, 0.0487, 0.0794];

const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);

const PASSAGES = [
  'The recipe calls for flour, butter, sugar and eggs; bake the cake at 180 degrees for forty minutes.',
  'The central bank raised interest rates by half a percentage point to fight persistent inflation.',
  'Photosynthesis lets plants convert sunlight, water and carbon dioxide into glucose and oxygen.',
  'The striker scored twice in the second half, sending the team through to the cup final.',
  'To reset your router, hold the power button for ten seconds until the lights start blinking.',
];

describe('LocalEmbeddingProvider (fp32)', () => {
  let provider: LocalEmbeddingProvider;
  beforeAll(async () => {
    provider = await LocalEmbeddingProvider.create({ threads: 2 });
  }, 120_000);
  afterAll(async () => {
    await provider?.close();
  });

  it('describes the model', () => {
    expect(provider.dimension).toBe(384);
    expect(provider.modelId).toBe('local:all-MiniLM-L6-v2');
  });

  it('reproduces the sentence-transformers reference vector', async () => {
    const [v] = await provider.embed(['This is an example sentence']);
    expect(v).toHaveLength(384);
    REFERENCE.forEach((r, i) => expect(Math.abs(v[i] - r)).toBeLessThan(0.001));
    expect(Math.sqrt(dot(v, v))).toBeCloseTo(1, 5);
  });

  it('gives the same vector for a text alone and inside a padded batch', async () => {
    const [alone] = await provider.embed(['This is an example sentence']);
    const batch = await provider.embed([PASSAGES[0], 'This is an example sentence', 'word '.repeat(300)]);
    expect(dot(alone, batch[1])).toBeGreaterThan(0.99999);
  });

  it('finds the right passage for a paraphrased query', async () => {
    const vectors = await provider.embed(PASSAGES);
    const queries: Array<[string, number]> = [
      ['How do I restart my wifi modem?', 4],
      ['Monetary policy tightening to curb rising prices', 1],
      ['Which goals got the club into the championship match?', 3],
      ['How do green leaves make sugar from light?', 2],
      ['baking instructions for a sponge dessert', 0],
    ];
    const qv = await provider.embed(queries.map(([q]) => q));
    queries.forEach(([, expected], qi) => {
      const scores = vectors.map((v) => dot(qv[qi], v));
      expect(scores.indexOf(Math.max(...scores))).toBe(expected);
    });
  });

  it('preserves input order across length-sorted batches', async () => {
    const texts = Array.from({ length: 21 }, (_, i) => `${'filler '.repeat((i * 7) % 23)}item number ${i}`);
    const batched = await provider.embed(texts);
    const single = await Promise.all([0, 5, 13, 20].map((i) => provider.embed([texts[i]])));
    [0, 5, 13, 20].forEach((i, k) => expect(dot(batched[i], single[k][0])).toBeGreaterThan(0.9999));
  });

  it('keeps the calling thread responsive while embedding', async () => {
    const texts = Array.from({ length: 48 }, (_, i) => `${PASSAGES[i % PASSAGES.length]} `.repeat(6) + i);
    let last = Date.now();
    let maxGap = 0;
    const timer = setInterval(() => {
      const now = Date.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 5);
    const started = Date.now();
    await provider.embed(texts);
    const elapsed = Date.now() - started;
    clearInterval(timer);
    expect(elapsed).toBeGreaterThan(200); // real work happened …
    expect(maxGap).toBeLessThan(100); // … but not on this event loop
  }, 60_000);

  it('returns [] for an empty list', async () => {
    await expect(provider.embed([])).resolves.toEqual([]);
  });

  it('truncates a text longer than 256 tokens without error', async () => {
    const long = 'The quick brown fox jumps over the lazy dog. '.repeat(100); // ~1000 tokens
    const [v, cut] = await provider.embed([long, 'The quick brown fox jumps over the lazy dog. '.repeat(30)]);
    expect(v).toHaveLength(384);
    expect(v.every(Number.isFinite)).toBe(true);
    // both are cut to the same first 254 word pieces
    expect(dot(v, cut)).toBeGreaterThan(0.9999);
  });

  it('rejects non-string input as a permanent EmbeddingError', async () => {
    const err = await provider.embed([42 as unknown as string]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmbeddingError);
    expect((err as EmbeddingError).transient).toBe(false);
  });
});

describe('LocalEmbeddingProvider (int8)', () => {
  it('stays within 0.01 of the reference and close to fp32', async () => {
    const q = await LocalEmbeddingProvider.create({ quantize: true });
    const f = await LocalEmbeddingProvider.create({});
    try {
      expect(q.modelId).toBe('local:all-MiniLM-L6-v2-int8');
      const [v] = await q.embed(['This is an example sentence']);
      REFERENCE.forEach((r, i) => expect(Math.abs(v[i] - r)).toBeLessThan(0.01));
      const [qv, fv] = [await q.embed(PASSAGES), await f.embed(PASSAGES)];
      qv.forEach((x, i) => expect(dot(x, fv[i])).toBeGreaterThan(0.98));
    } finally {
      await Promise.all([q.close(), f.close()]);
    }
  }, 120_000);
});

describe('LocalEmbeddingProvider lifecycle', () => {
  it('fails permanently when options are invalid or the model cannot load', async () => {
    await expect(LocalEmbeddingProvider.create({ threads: 0 })).rejects.toMatchObject({ name: 'EmbeddingError', transient: false });
    await expect(LocalEmbeddingProvider.create({ modelDir: '/nonexistent/model' })).rejects.toMatchObject({
      name: 'EmbeddingError',
      transient: false,
    });
  }, 60_000);

  it('rejects embed() after close()', async () => {
    const p = await LocalEmbeddingProvider.create({ threads: 1 });
    await p.close();
    await expect(p.embed(['hello'])).rejects.toBeInstanceOf(EmbeddingError);
    await p.close(); // idempotent
  }, 60_000);
});
