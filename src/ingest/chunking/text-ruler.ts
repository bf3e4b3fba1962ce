/** How the splitter sizes text: by characters (exact, additive) or by the caller's measure. */
export interface Ruler {
  /** A span's size is the sum of its pieces' sizes, so running sums are exact. */
  readonly additive: boolean;
  /** Size of a piece, added up to estimate the size of a run of pieces. */
  piece(start: number, end: number): number;
  /** Size of text[start, end) as a chunk holds it (trimmed). */
  chunk(start: number, end: number): number;
}

/**
 * Sizes text by characters, or by `measure` on the text itself. A piece is measured
 * without its leading white space and its trailing spaces and tabs (which a BPE
 * tokenizer folds into the next word) but with its trailing line breaks (which it
 * counts), so that piece sizes add up to close to a chunk's size.
 */
export function ruler(text: string, measure: ((text: string) => number) | undefined): Ruler {
  if (!measure) return { additive: true, piece: (s, e) => e - s, chunk: (s, e) => e - s };
  return {
    additive: false,
    piece: (s, e) => {
      while (s < e && /\s/.test(text[s])) s++;
      while (e > s && (text[e - 1] === ' ' || text[e - 1] === '\t')) e--;
      return s < e ? measure(text.slice(s, e)) : 0;
    },
    chunk: (s, e) => {
      const t = trimSpan(text, s, e);
      return t.start < t.end ? measure(text.slice(t.start, t.end)) : 0;
    },
  };
}

/** text[start, end) without the white space at its ends. */
export function trimSpan(text: string, start: number, end: number): { start: number; end: number } {
  while (start < end && /\s/.test(text[start])) start++;
  while (end > start && /\s/.test(text[end - 1])) end--;
  return { start, end };
}
