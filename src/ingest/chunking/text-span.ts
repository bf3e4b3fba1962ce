/** What the splitter's stages share: spans of the text and the strength of the boundary at a span's start. */

// Strength of the boundary at the start of a piece: a chunk is cut at the strongest one
// available. GLUE joins a heading to the block it introduces and is cut only if nothing
// else can be.
export const GLUE = 0;
export const HARD = 1;
export const WORD = 2;
export const LINE = 3;
export const SENTENCE = 4;
export const BLOCK = 5;
export const HEADING = 6;

/** A contiguous span of the text; `level` is the strength of the boundary at its start. */
export interface Span {
  start: number;
  end: number;
  level: number;
}

/** A markdown block; `code` when it is a fenced code block. */
export interface Block extends Span {
  code: boolean;
}

/** A span no larger than a chunk, with its size (`cost`) in the unit of the split. */
export interface Piece extends Span {
  cost: number;
}
