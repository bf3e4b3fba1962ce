/** A piece of a document's text, with its offsets into the original (UTF-16 units). */
export interface TextChunk {
  index: number;
  content: string;
  start: number;
  end: number;
}

export interface SplitOptions {
  /** Largest chunk, in characters. */
  size: number;
  /** Characters of the previous chunk repeated at the start of the next, at most. */
  overlap: number;
}

/**
 * Version of the chunking algorithm, recorded in each document's pipeline config so that
 * identical content posted after an algorithm change is processed again. 1 was greedy
 * packing; 2 is content-defined, markdown-aware boundaries.
 */
export const SPLITTER_VERSION = 2;

// Strength of the boundary at the start of a piece: a chunk is cut at the strongest one
// available. GLUE joins a heading to the block it introduces and is cut only if nothing
// else can be.
const GLUE = 0;
const HARD = 1;
const WORD = 2;
const LINE = 3;
const SENTENCE = 4;
const BLOCK = 5;
const HEADING = 6;

/** A contiguous piece of the text; `level` is the strength of the boundary at its start. */
interface Piece {
  start: number;
  end: number;
  level: number;
}

interface Block extends Piece {
  code: boolean;
}

interface Separator {
  re: RegExp;
  level: number;
}

// Finer cuts for a block longer than `size`, coarsest first.
const PROSE_SEPARATORS: Separator[] = [
  { re: /[.!?]+["'\u201d\u2019)\]]*\s+|[\u3002\uff01\uff1f]+\s*/g, level: SENTENCE }, // CJK marks need no space
  { re: /\n/g, level: LINE },
  { re: /\s+/g, level: WORD },
];
const CODE_SEPARATORS: Separator[] = [
  { re: /\n[ \t]*\n/g, level: SENTENCE }, // blank lines inside code
  { re: /\n/g, level: LINE },
];

/** Shortest chunk (as a fraction of the room left by the overlap) cut at a content-defined boundary. */
const MIN_FRACTION = 0.25;
/** A section shorter than this fraction is kept with the next one rather than made a chunk of its own. */
const MIN_SECTION_FRACTION = 0.1;
/** One in this many paragraph or sentence boundaries (by hash of the text after it) ends a chunk. */
const ANCHOR_MODULUS = 6;
/** Characters after a boundary that decide whether it is an anchor. */
const ANCHOR_WINDOW = 32;

const ATX_HEADING = /^ {0,3}#{1,6}[ \t]+\S/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/**
 * Splits text into chunks whose boundaries depend on the text around them, not on
 * everything before, so an edit moves only the boundaries near it and the other chunks'
 * text (hence their cached embeddings) stays the same.
 *
 * 1. Markdown structure first: the text is cut into blocks at ATX headings, blank lines
 *    and fenced code blocks (a heading stays with the block it introduces; a code block
 *    is one block). A block longer than `size` is cut at sentences, lines, words, and as
 *    a last resort inside a word (never inside a surrogate pair); a code block only at
 *    blank lines and lines.
 * 2. Pieces are then gathered into chunks of at most `size - overlap` characters (the
 *    room). A chunk ends before a heading once it holds a tenth of the room; otherwise
 *    at the first paragraph or sentence boundary, past a quarter of the room, whose
 *    following 32 characters hash to an anchor (one boundary in six); and when the next
 *    piece would not fit, at the boundary in it of the strongest kind with the highest
 *    hash. All three rules look only at the chunk's own text, so chunking
 *    re-synchronises right after an edit.
 *
 * `size` is a hard maximum, in UTF-16 units. Each chunk after the first starts up to
 * `overlap` characters before the previous one ended, at a piece or word boundary,
 * except a chunk that opens a section (no text of the previous section is repeated).
 * Chunks are trimmed and never empty. Deterministic; O(n) in the text's length.
 */
export function splitText(text: string, options: SplitOptions): TextChunk[] {
  const { size, overlap } = options;
  if (!Number.isInteger(size) || size < 1) throw new RangeError('size must be a positive integer');
  if (!Number.isInteger(overlap) || overlap < 0 || overlap >= size) {
    throw new RangeError('overlap must be a non-negative integer smaller than size');
  }
  const pieces = glueHeadings(
    markdownBlocks(text).flatMap((b) => atomize(text, b, b.code ? CODE_SEPARATORS : PROSE_SEPARATORS, 0, size)),
    size,
  );
  const chunks: TextChunk[] = [];
  let prev: TextChunk | undefined;
  for (const [from, to] of segments(text, pieces, size, overlap)) {
    const own = trimSpan(text, pieces[from].start, pieces[to - 1].end);
    if (own.end <= own.start) continue;
    let start = pieces[from].start;
    if (prev && overlap > 0 && pieces[from].level !== HEADING) {
      start = overlapStart(text, pieces, prev.start, start, pieces[to - 1].end, options);
    }
    const span = trimSpan(text, start, own.end);
    prev = { index: chunks.length, content: text.slice(span.start, span.end), start: span.start, end: span.end };
    chunks.push(prev);
  }
  return chunks;
}

/**
 * Cuts the text into markdown blocks covering it exactly: a block starts at each ATX
 * heading, at each fenced code block (which runs to its closing fence, or to the end),
 * and at the first line of text after a blank line, a heading or a code block.
 */
function markdownBlocks(text: string): Block[] {
  const blocks: Block[] = [];
  let fence: string | null = null;
  let afterBreak = true;
  let afterHeading = false;
  const open = (at: number, level: number, code: boolean): void => {
    if (blocks.length === 0) at = 0;
    else blocks[blocks.length - 1].end = at;
    blocks.push({ start: at, end: text.length, level, code });
  };
  for (let lineStart = 0; lineStart < text.length; ) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd < 0) lineEnd = text.length;
    const first = firstNonSpace(text, lineStart, lineEnd);
    const head = (): string => text.slice(lineStart, Math.min(lineEnd, lineStart + 64));
    if (fence !== null) {
      const m = first === fence[0] ? FENCE.exec(head()) : null;
      if (m && m[1].length >= fence.length) {
        fence = null;
        afterBreak = true;
      }
    } else if ((first === '`' || first === '~') && FENCE.test(head())) {
      fence = FENCE.exec(head())![1];
      open(lineStart, afterHeading ? GLUE : BLOCK, true);
      afterHeading = false;
    } else if (first === '#' && ATX_HEADING.test(head())) {
      open(lineStart, HEADING, false);
      afterHeading = true;
      afterBreak = true;
    } else if ((first === '' || /\s/.test(first)) && isBlank(text, lineStart, lineEnd)) {
      afterBreak = true;
    } else {
      if (afterBreak) open(lineStart, afterHeading ? GLUE : BLOCK, false);
      afterHeading = false;
      afterBreak = false;
    }
    lineStart = lineEnd + 1;
  }
  return blocks;
}

/** Cuts a piece into contiguous pieces no longer than `size`, coarsest separators first. */
function atomize(text: string, piece: Piece, separators: Separator[], level: number, size: number): Piece[] {
  if (piece.end - piece.start <= size) return [piece];
  if (level >= separators.length) return cutHard(text, piece, size);
  const parts = cutAfter(text, piece, separators[level]);
  if (parts.length === 1) return atomize(text, piece, separators, level + 1, size);
  return parts.flatMap((p) => atomize(text, p, separators, level + 1, size));
}

/** Splits a piece right after each match of the separator, so the parts cover it exactly. */
function cutAfter(text: string, piece: Piece, separator: Separator): Piece[] {
  const re = new RegExp(separator.re.source, 'g');
  re.lastIndex = piece.start;
  const parts: Piece[] = [];
  let start = piece.start;
  let level = piece.level;
  for (let m = re.exec(text); m !== null && m.index < piece.end; m = re.exec(text)) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    const cut = Math.min(m.index + m[0].length, piece.end);
    if (cut > start && cut < piece.end) {
      parts.push({ start, end: cut, level });
      start = cut;
      level = separator.level;
    }
  }
  parts.push({ start, end: piece.end, level });
  return parts;
}

/** Fixed-size cuts for text with no separator at all, kept off surrogate pairs. */
function cutHard(text: string, piece: Piece, size: number): Piece[] {
  const parts: Piece[] = [];
  let start = piece.start;
  while (start < piece.end) {
    let end = Math.min(start + size, piece.end);
    if (end < piece.end && isLowSurrogate(text.charCodeAt(end)) && end - 1 > start) end--;
    parts.push({ start, end, level: start === piece.start ? piece.level : HARD });
    start = end;
  }
  return parts;
}

/** Joins each heading to the first piece of its block when both fit in one chunk. */
function glueHeadings(pieces: Piece[], size: number): Piece[] {
  const out: Piece[] = [];
  for (const p of pieces) {
    const last = out[out.length - 1];
    if (p.level === GLUE && last && p.end - last.start <= size) last.end = p.end;
    else out.push({ ...p });
  }
  return out;
}

/**
 * The chunks as half-open ranges of piece indexes. A range's text fits in
 * `size - overlap` (so the overlap has room) unless it is a single piece.
 */
function* segments(text: string, pieces: Piece[], size: number, overlap: number): Generator<[number, number]> {
  const room = size - overlap;
  const minLength = Math.max(1, Math.floor(room * MIN_FRACTION));
  const minSection = Math.max(1, Math.floor(room * MIN_SECTION_FRACTION));
  let from = 0;
  while (from < pieces.length) {
    const start = pieces[from].start;
    let to = pieces.length;
    for (let k = from + 1; k < pieces.length; k++) {
      const length = pieces[k].start - start;
      const p = pieces[k];
      if (p.level === HEADING && length >= minSection) {
        to = k;
        break;
      }
      if (p.level >= SENTENCE && length >= minLength && anchorHash(text, p.start) % ANCHOR_MODULUS === 0) {
        to = k;
        break;
      }
      if (p.end - start > room) {
        to = strongestCut(text, pieces, from, k, minLength);
        break;
      }
    }
    yield [from, to];
    from = to;
  }
}

/**
 * Where a chunk that cannot take piece `last` ends: the boundary in (from, last] with the
 * strongest level, then the highest hash, preferring those at least `minLength` in.
 */
function strongestCut(text: string, pieces: Piece[], from: number, last: number, minLength: number): number {
  let best = -1;
  let bestScore = -1;
  let bestLong = false;
  for (let k = from + 1; k <= last; k++) {
    const long = pieces[k].start - pieces[from].start >= minLength;
    const score = pieces[k].level * 2 ** 32 + anchorHash(text, pieces[k].start);
    if ((long && !bestLong) || (long === bestLong && score > bestScore)) {
      best = k;
      bestScore = score;
      bestLong = long;
    }
  }
  return best;
}

/** FNV-1a of the text that follows a boundary: what makes the boundary content-defined. */
function anchorHash(text: string, at: number): number {
  let h = 0x811c9dc5;
  const end = Math.min(text.length, at + ANCHOR_WINDOW);
  for (let i = at; i < end; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Where a chunk whose own text starts at `from` begins so that it repeats at most
 * `overlap` characters of the previous one (which starts at `prevStart`): the earliest
 * piece boundary in the overlap window, else the earliest word start, moved forward
 * until the chunk, which ends at `end`, still fits within `size`.
 */
function overlapStart(text: string, pieces: Piece[], prevStart: number, from: number, end: number, o: SplitOptions): number {
  const windowStart = Math.max(prevStart + 1, from - o.overlap);
  const fits = (p: number): boolean => end - p <= o.size;
  for (let i = firstPieceAtOrAfter(pieces, windowStart); i < pieces.length && pieces[i].start < from; i++) {
    if (fits(pieces[i].start)) return pieces[i].start;
  }
  for (let p = windowStart; p < from; p++) {
    if (isWordStart(text, p) && fits(p)) return p;
  }
  return from;
}

/** Binary search: index of the first piece starting at or after `pos`. */
function firstPieceAtOrAfter(pieces: Piece[], pos: number): number {
  let lo = 0;
  let hi = pieces.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pieces[mid].start < pos) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first character of a line within markdown's 3-space indent, or '' if there is none. */
function firstNonSpace(text: string, from: number, to: number): string {
  for (let i = from; i < to && i < from + 4; i++) {
    if (text[i] !== ' ') return text[i];
  }
  return '';
}

function isBlank(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!/\s/.test(text[i])) return false;
  return true;
}

function isWordStart(text: string, p: number): boolean {
  return p > 0 && /\s/.test(text[p - 1]) && !/\s/.test(text[p]);
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

function trimSpan(text: string, start: number, end: number): { start: number; end: number } {
  while (start < end && /\s/.test(text[start])) start++;
  while (end > start && /\s/.test(text[end - 1])) end--;
  return { start, end };
}
