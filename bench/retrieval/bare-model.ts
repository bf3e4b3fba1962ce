/**
 * The reference: the embedding model outside the service, on plain 1,000-character chunks
 * of each document's text (HTML turned into markdown as the service extracts it) with no
 * context prefix, documents ranked by their best chunk's cosine similarity. Vectors are
 * kept in a file keyed by text, so a second run embeds nothing it has seen.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { EmbeddingProvider } from '../../src/embedding/embedding-provider';
import { markdownFromHtml } from '../../src/extraction/worker/markdown-from-html';
import type { Corpus } from './corpus-files';
import { distinct } from './metrics';

const CHUNK_CHARS = 1000;
const BATCH = 32;

function key(model: string, text: string): string {
  return createHash('sha256').update(model).update('\u0000').update(text).digest('base64');
}

function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function norm(v: readonly number[]): number[] {
  const n = Math.sqrt(dot(v, v)) || 1;
  return v.map((x) => x / n);
}

/** Embeds texts through a file cache of vectors. */
export class CachedEmbedder {
  private readonly cache: Record<string, number[]>;
  private dirty = false;

  constructor(
    private readonly provider: EmbeddingProvider,
    private readonly file: string,
  ) {
    this.cache = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, number[]>) : {};
  }

  async embed(texts: readonly string[]): Promise<number[][]> {
    const missing = [...new Set(texts.filter((t) => this.cache[key(this.provider.modelId, t)] === undefined))];
    for (let i = 0; i < missing.length; i += BATCH) {
      const batch = missing.slice(i, i + BATCH);
      const vectors = await this.provider.embed(batch);
      batch.forEach((t, j) => (this.cache[key(this.provider.modelId, t)] = norm(vectors[j]).map((x) => Math.round(x * 1e6) / 1e6)));
      this.dirty = true;
    }
    return texts.map((t) => this.cache[key(this.provider.modelId, t)]);
  }

  save(): void {
    if (this.dirty) writeFileSync(this.file, JSON.stringify(this.cache));
    this.dirty = false;
  }
}

/** A ranker over one corpus: documents by the best cosine similarity of their plain chunks. */
export async function bareModelRanker(corpus: Corpus, embedder: CachedEmbedder): Promise<(question: string) => Promise<string[]>> {
  const chunks: Array<{ doc: string; text: string }> = [];
  for (const d of corpus.docs) {
    const text = d.format === 'html' ? markdownFromHtml(d.content) : d.content;
    for (let i = 0; i < text.length; i += CHUNK_CHARS) chunks.push({ doc: d.id, text: text.slice(i, i + CHUNK_CHARS) });
  }
  const vectors = await embedder.embed(chunks.map((c) => c.text));
  embedder.save();
  return async (question) => {
    const [q] = await embedder.embed([question]);
    const scored = chunks.map((c, i) => ({ doc: c.doc, s: dot(q, vectors[i]) })).sort((a, b) => b.s - a.s);
    return distinct(scored.map((x) => x.doc)).slice(0, 10);
  };
}
