import { EmbeddingProvider } from './embedding-provider';

/**
 * Deterministic feature hashing: word unigrams and bigrams, each hashed (FNV-1a) to a
 * signed slot of the vector, then L2-normalised. Lexical, not semantic: texts sharing
 * words land close together, paraphrases do not. For tests and for measuring the
 * pipeline without model cost.
 */
export class HashEmbeddingProvider implements EmbeddingProvider {
  readonly modelId: string;
  /** Hashing a text costs less than a cache round trip, and writing the cache costs Postgres a row per chunk. */
  readonly worthCaching = false;

  constructor(readonly dimension: number) {
    this.modelId = `hash:fnv1a-uni-bigram-${dimension}`;
  }

  async embed(texts: string[]): Promise<number[][]> {
    return texts.map((t) => this.embedOne(t));
  }

  private embedOne(text: string): number[] {
    const v = new Float64Array(this.dimension);
    const tokens = text.toLowerCase().match(/[\p{L}\p{N}_]+/gu) ?? [];
    for (let i = 0; i < tokens.length; i++) {
      this.add(v, tokens[i], 1);
      if (i > 0) this.add(v, `${tokens[i - 1]} ${tokens[i]}`, 0.5);
    }
    let norm = 0;
    for (const x of v) norm += x * x;
    norm = Math.sqrt(norm);
    // An all-zero vector has no cosine direction; give it a fixed unit vector instead.
    if (norm === 0) return Array.from(v, (_, i) => (i === 0 ? 1 : 0));
    return Array.from(v, (x) => x / norm);
  }

  private add(v: Float64Array, feature: string, weight: number): void {
    const h = fnv1a(feature);
    const slot = h % this.dimension;
    v[slot] += (h & 0x80000000) !== 0 ? -weight : weight;
  }
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
