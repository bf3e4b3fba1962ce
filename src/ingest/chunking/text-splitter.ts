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

/** A contiguous span of the text; `level` is the strength of the boundary at its start. */
interface Span {
  start: number;
  end: number;
  level: number;
}

interface Block extends Span {
  code: boolean;
}

/** A span no larger than a chunk, with its size (`cost`) in the unit of the split. */
interface Piece extends Span {
  cost: number;
}

/** How the splitter sizes text: by characters (exact, additive) or by the caller's measure. */
interface Ruler {
  /** A span's size is the sum of its pieces' sizes, so running sums are exact. */
  readonly additive: boolean;
  /** Size of a piece, added up to estimate the size of a run of pieces. */
  piece(start: number, end: number): number;
  /** Size of text[start, end) as a chunk holds it (trimmed). */
  chunk(start: number, end: number): number;
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
 * Sizes are in characters (UTF-16 units) unless `measure` says otherwise (tokens, say):
 * the same rules then run on the measured sizes of the pieces, and every chunk is
 * measured whole before it is cut. `size` is a hard maximum in that unit, except for a
 * single character (or surrogate pair) larger than `size` on its own. Each chunk after
 * the first starts up to `overlap` before the previous one ended, at a piece or word
 * boundary, except a chunk that opens a section (no text of the previous section is
 * repeated). Chunks are trimmed and never empty. Deterministic; O(n) in the text's
 * length (each piece is measured a bounded number of times).
 */
export function splitText(text: string, options: SplitOptions): TextChunk[] {
  const { size, overlap } = options;
  if (!Number.isInteger(size) || size < 1) throw new RangeError('size must be a positive integer');
  if (!Number.isInteger(overlap) || overlap < 0 || overlap >= size) {
    throw new RangeError('overlap must be a non-negative integer smaller than size');
  }
  const r = ruler(text, options.measure);
  const pieces = glueHeadings(
    markdownBlocks(text).flatMap((b) => atomize(text, b, b.code ? CODE_SEPARATORS : PROSE_SEPARATORS, 0, size, r)),
    size,
    r,
  );
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

/**
 * Sizes text by characters, or by `measure` on the text itself. A piece is measured
 * without its leading white space and its trailing spaces and tabs (which a BPE
 * tokenizer folds into the next word) but with its trailing line breaks (which it
 * counts), so that piece sizes add up to close to a chunk's size.
 */
function ruler(text: string, measure: ((text: string) => number) | undefined): Ruler {
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

/** Cuts a span into contiguous pieces no larger than `size`, coarsest separators first. */
function atomize(text: string, span: Span, separators: Separator[], level: number, size: number, r: Ruler, known?: number): Piece[] {
  const cost = known ?? r.piece(span.start, span.end);
  if (cost <= size) return [{ start: span.start, end: span.end, level: span.level, cost }];
  if (level >= separators.length) return cutHard(text, span, size, r, cost);
  const parts = cutAfter(text, span, separators[level]);
  if (parts.length === 1) return atomize(text, span, separators, level + 1, size, r, cost);
  return parts.flatMap((p) => atomize(text, p, separators, level + 1, size, r));
}

/** Splits a span right after each match of the separator, so the parts cover it exactly. */
function cutAfter(text: string, piece: Span, separator: Separator): Span[] {
  const re = new RegExp(separator.re.source, 'g');
  re.lastIndex = piece.start;
  const parts: Span[] = [];
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

/**
 * Cuts for text with no separator at all, kept off surrogate pairs: as much as fits, by
 * characters; by measure, a part as long as the span's average says fits, shrunk in
 * proportion to its excess until it does (never measuring the rest of the span).
 */
function cutHard(text: string, span: Span, size: number, r: Ruler, spanCost: number): Piece[] {
  const parts: Piece[] = [];
  const perUnit = (span.end - span.start) / spanCost;
  let start = span.start;
  while (start < span.end) {
    let end = Math.min(span.end, start + Math.max(1, Math.floor(size * perUnit)));
    if (end < span.end && isLowSurrogate(text.charCodeAt(end)) && end - 1 > start) end--;
    let cost = r.piece(start, end);
    while (cost > size && end - start > 1) {
      let cut = Math.min(end - 1, start + Math.max(1, Math.floor(((end - start) * size) / cost)));
      if (isLowSurrogate(text.charCodeAt(cut)) && cut - 1 > start) cut--;
      end = cut;
      cost = r.piece(start, end);
    }
    parts.push({ start, end, level: start === span.start ? span.level : HARD, cost });
    start = end;
  }
  return parts;
}

/** Joins each heading to the first piece of its block when both fit in one chunk. */
function glueHeadings(pieces: Piece[], size: number, r: Ruler): Piece[] {
  const out: Piece[] = [];
  for (const p of pieces) {
    const last = out[out.length - 1];
    const cost = p.level === GLUE && last ? (r.additive ? last.cost + p.cost : r.piece(last.start, p.end)) : Infinity;
    if (cost <= size) {
      last.end = p.end;
      last.cost = cost;
    } else {
      out.push({ ...p });
    }
  }
  return out;
}

/**
 * The chunks as half-open ranges of piece indexes, each with its own text's measured
 * size when it was measured whole. A range's text fits in `size - overlap` (so the
 * overlap has room) unless it is a single piece. By measure, the sum of the pieces'
 * sizes only estimates the chunk's: the chunk is measured whole and, while it is too
 * large, cut again with the estimate lowered by the excess (each time ending earlier).
 */
function* segments(
  text: string,
  pieces: Piece[],
  sums: number[],
  size: number,
  overlap: number,
  r: Ruler,
): Generator<[number, number, number | undefined]> {
  const room = size - overlap;
  const minLength = Math.max(1, Math.floor(room * MIN_FRACTION));
  const minSection = Math.max(1, Math.floor(room * MIN_SECTION_FRACTION));
  let from = 0;
  while (from < pieces.length) {
    let to = nextCut(text, pieces, sums, from, room, minLength, minSection);
    let measured: number | undefined;
    while (!r.additive && to - from > 1) {
      measured = r.chunk(pieces[from].start, pieces[to - 1].end);
      if (measured <= room) break;
      to = nextCut(text, pieces, sums, from, sums[to] - sums[from] - (measured - room), minLength, minSection);
      measured = undefined;
    }
    yield [from, to, measured];
    from = to;
  }
}

/**
 * Where the chunk that starts with piece `from` ends (exclusive piece index): before a
 * heading once it holds `minSection`, at an anchor once it holds `minLength`, or at the
 * strongest boundary once the next piece would take it past `budget`.
 */
function nextCut(
  text: string,
  pieces: Piece[],
  sums: number[],
  from: number,
  budget: number,
  minLength: number,
  minSection: number,
): number {
  for (let k = from + 1; k < pieces.length; k++) {
    const length = sums[k] - sums[from];
    const p = pieces[k];
    if (p.level === HEADING && length >= minSection) return k;
    if (p.level >= SENTENCE && length >= minLength && anchorHash(text, p.start) % ANCHOR_MODULUS === 0) return k;
    if (sums[k + 1] - sums[from] > budget) return strongestCut(text, pieces, sums, from, k, minLength);
  }
  return pieces.length;
}

/**
 * Where a chunk that cannot take piece `last` ends: the boundary in (from, last] with the
 * strongest level, then the highest hash, preferring those at least `minLength` in.
 */
function strongestCut(text: string, pieces: Piece[], sums: number[], from: number, last: number, minLength: number): number {
  let best = -1;
  let bestScore = -1;
  let bestLong = false;
  for (let k = from + 1; k <= last; k++) {
    const long = sums[k] - sums[from] >= minLength;
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
 * Where the chunk made of pieces `fromIdx`.. (its own text ending at `end`, of measured
 * size `own` when known) begins so that it repeats at most `overlap` of the previous
 * chunk (which starts at `prevStart`) and stays within `size`: the earliest piece
 * boundary in that window, else the earliest word start in it. By characters the
 * window is exact; by measure it is found from the pieces' sizes (inside a piece, in
 * proportion to its length) and each candidate is measured before it is taken.
 */
function overlapStart(
  text: string,
  pieces: Piece[],
  sums: number[],
  prevStart: number,
  fromIdx: number,
  end: number,
  own: number | undefined,
  o: SplitOptions,
  r: Ruler,
): number {
  const from = pieces[fromIdx].start;
  const budget = Math.min(o.overlap, o.size - (own ?? r.chunk(from, end)));
  if (budget <= 0) return from;
  const fits = (p: number): boolean => r.additive || (r.chunk(p, from) <= o.overlap && r.chunk(p, end) <= o.size);
  const target = sums[fromIdx] - budget;
  for (let i = Math.max(firstPieceAtOrAfter(pieces, prevStart + 1), firstSumAtOrAbove(sums, target)); i < fromIdx; i++) {
    if (fits(pieces[i].start)) return pieces[i].start;
  }
  // The piece in which the window opens: the last one starting at or before `target`.
  const j = firstSumAtOrAbove(sums, target + 1) - 1;
  let windowStart = 0;
  if (j >= 0 && j < fromIdx) {
    const p = pieces[j];
    windowStart = p.start + Math.ceil(((target - sums[j]) * (p.end - p.start)) / p.cost);
  }
  for (let p = Math.max(prevStart + 1, windowStart); p < from; p++) {
    if (isWordStart(text, p) && fits(p)) return p;
  }
  return from;
}

/** Binary search: index of the first running sum at or above `value` (sums ascend). */
function firstSumAtOrAbove(sums: number[], value: number): number {
  let lo = 0;
  let hi = sums.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sums[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
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
