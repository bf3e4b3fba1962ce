import { SplitOptions, splitText } from './text-splitter';

// Seeded sample text for the splitter's specs: the same documents on every run.

/** A small seeded generator. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return a / 2 ** 32;
  };
}

const VOCAB = ['index', 'queue', 'worker', 'vector', 'chunk', 'cache', 'batch', 'retry', 'lease', 'shard', 'planner', 'replica'];

function sentence(rand: () => number): string {
  const n = 6 + Math.floor(rand() * 14);
  return Array.from({ length: n }, () => VOCAB[Math.floor(rand() * VOCAB.length)]).join(' ') + '.';
}

/** `count` paragraphs of seeded sentences, each of `sentences[0]` up to (excluded) `sentences[1]` sentences. */
export function paragraphs(seed: number, count: number, sentences: [number, number]): string[] {
  const rand = rng(seed);
  return Array.from({ length: count }, () =>
    Array.from({ length: sentences[0] + Math.floor(rand() * (sentences[1] - sentences[0])) }, () => sentence(rand)).join(' '),
  );
}

/** Chunks of `after` whose text is not among the chunks of `before`: what would be re-embedded. */
export function changedChunks(before: string, after: string, size: number, overlap: number, measure?: SplitOptions['measure']): number {
  const old = new Set(splitText(before, { size, overlap, measure }).map((c) => c.content));
  return splitText(after, { size, overlap, measure }).filter((c) => !old.has(c.content)).length;
}
