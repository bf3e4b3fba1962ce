import { segments } from './chunk-cuts';
import { overlapStart } from './chunk-overlap';
import { textPieces } from './text-pieces';
import { ruler, trimSpan } from './text-ruler';
import { HEADING } from './text-span';

/** A piece of a document's text, with its offsets into the original (UTF-16 units). */
export interface TextChunk {
  index: number;
  content: string;
  start: number;
  end: number;
}

export interface SplitOptions {
  /** Largest chunk, in the unit of `measure`: characters (UTF-16 units) by default. */
  size: number;
  /** Most of the previous chunk repeated at the start of the next, in the same unit. */
  overlap: number;
  /**
   * Size of a text in the unit of `size` and `overlap`, e.g. a tokenizer's count; by
   * default the text's length. It is called on pieces of the text (blocks, sentences,
   * lines, words) and on whole chunks, never on the rest of the document, so splitting
   * stays linear. Sums of piece sizes only estimate a chunk's size; each chunk is then
   * measured whole, and the cut moved back until it fits. Trimming white space off a
   * text's ends must never make it larger (true of token counts).
   */
  measure?: (text: string) => number;
}

/**
 * Version of the chunking algorithm, recorded in each document's pipeline config so that
 * identical content posted after an algorithm change is processed again. 1 was greedy
 * packing; 2 is content-defined, markdown-aware boundaries.
 */
export const SPLITTER_VERSION = 2;

/**
 * Splits text into chunks whose boundaries depend on the text around them, not on
 * everything before, so an edit moves only the boundaries near it and the other chunks'
 * text (hence their cached embeddings) stays the same.
 *
 * 1. Markdown structure first: the text is cut into blocks at ATX headings, blank lines
 *    and fenced code blocks (a heading stays with the block it introduces; a code block
 *    is one block). A block longer than `size` is cut at sentences, lines, words, and as
 *    a last resort inside a word (never inside a surrogate pair); a code block only at
 *    blank lines and lines (markdown-blocks.ts, text-pieces.ts).
 * 2. Pieces are then gathered into chunks of at most `size - overlap` characters (the
 *    room). A chunk ends before a heading once it holds a tenth of the room; otherwise
 *    at the first paragraph or sentence boundary, past a quarter of the room, whose
 *    following 32 characters hash to an anchor (one boundary in six); and when the next
 *    piece would not fit, at the boundary in it of the strongest kind with the highest
 *    hash. All three rules look only at the chunk's own text, so chunking
 *    re-synchronises right after an edit (chunk-cuts.ts).
 *
 * Sizes are in characters (UTF-16 units) unless `measure` says otherwise (tokens, say):
 * the same rules then run on the measured sizes of the pieces, and every chunk is
 * measured whole before it is cut. `size` is a hard maximum in that unit, except for a
 * single character (or surrogate pair) larger than `size` on its own. Each chunk after
 * the first starts up to `overlap` before the previous one ended, at a piece or word
 * boundary, except a chunk that opens a section (no text of the previous section is
 * repeated; chunk-overlap.ts). Chunks are trimmed and never empty. Deterministic;
 * O(n) in the text's length (each piece is measured a bounded number of times).
 */
export function splitText(text: string, options: SplitOptions): TextChunk[] {
  const { size, overlap } = options;
  if (!Number.isInteger(size) || size < 1) throw new RangeError('size must be a positive integer');
  if (!Number.isInteger(overlap) || overlap < 0 || overlap >= size) {
    throw new RangeError('overlap must be a non-negative integer smaller than size');
  }
  const r = ruler(text, options.measure);
  const pieces = textPieces(text, size, r);
  // sums[i]: size of the pieces before piece i, so sums[k] - sums[j] sizes pieces j..k-1.
  const sums = new Array<number>(pieces.length + 1);
  sums[0] = 0;
  for (let i = 0; i < pieces.length; i++) sums[i + 1] = sums[i] + pieces[i].cost;
  const chunks: TextChunk[] = [];
  let prev: TextChunk | undefined;
  for (const [from, to, ownSize] of segments(text, pieces, sums, size, overlap, r)) {
    const own = trimSpan(text, pieces[from].start, pieces[to - 1].end);
    if (own.end <= own.start) continue;
    let start = pieces[from].start;
    if (prev && overlap > 0 && pieces[from].level !== HEADING) {
      start = overlapStart(text, pieces, sums, prev.start, from, pieces[to - 1].end, ownSize, options, r);
    }
    const span = trimSpan(text, start, own.end);
    prev = { index: chunks.length, content: text.slice(span.start, span.end), start: span.start, end: span.end };
    chunks.push(prev);
  }
  return chunks;
}
