// A candidate successor of the content-defined splitter (src/ingest/text-splitter.ts, SPLITTER_VERSION 2),
// measured by bench/edit-stability.bench.ts; not used by the service. See splitText below for what differs.
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

// Strength of the boundary at the start of a piece: a chunk is cut at the strongest one
// available. GLUE joins a heading to the block it introduces and is cut only if nothing
// else can be.
const GLUE = 0;
const HARD = 1;
const WORD = 2;
const LINE = 3;
const SENTENCE = 4;
const SENTENCE_LINE = 5;
const BLOCK = 6;
const HEADING = 7;

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

/** A section shorter than this fraction is kept with the next one rather than made a chunk of its own. */
const MIN_SECTION_FRACTION = 0.1;
/** Window (fraction of the room) in which a paragraph boundary must be the strongest to be a cut. */
const WINDOW = 0.38;
/** The same for sentence, line and word boundaries, inside paragraphs longer than a chunk. */
const SENTENCE_WINDOW = 0.45;
/** A span cut because it does not fit prefers parts at least this fraction of the room long. */
const END_MARGIN = 0.3;
/** Characters after a boundary that decide whether it is an anchor. */
const ANCHOR_WINDOW = 32;

const ATX_HEADING = /^ {0,3}#{1,6}[ \t]+\S/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/**
 * Splits text as src/ingest/text-splitter.ts does (same blocks, pieces, sizes and units),
 * but with two changes aimed at edit stability:
 *
 * - Cuts are local maxima (see `segments`): whether a boundary is a cut depends only on
 *   the text within a window around it, never on where the chunk began, so chunking is
 *   back in step right after an edit instead of after a chain of chunks. A sentence that
 *   ends a line is a stronger boundary than one inside a line (prose without blank lines).
 * - The overlap looks the same way as the cut decisions (forward, at the hash of the text
 *   after a boundary): each chunk repeats up to `overlap` of the next chunk's start,
 *   ending at a sentence end if one is in reach, else at a word end, instead of starting
 *   with the end of the previous one. An edit at a paragraph's end then leaves the next
 *   chunk alone; one at its start changes the previous chunk, as before.
 *
 * Sizes, headings (a chunk never repeats text of another section), code blocks (cut
 * only when longer than `size`) and the overlap budget are as in the service's splitter.
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
  const segs = segments(text, pieces, sums, size, overlap, r);
  const chunks: TextChunk[] = [];
  for (let k = 0; k < segs.length; k++) {
    const [from, to, ownSize] = segs[k];
    const own = trimSpan(text, pieces[from].start, pieces[to - 1].end);
    if (own.end <= own.start) continue;
    let end = pieces[to - 1].end;
    const next = segs[k + 1];
    if (next && overlap > 0 && pieces[next[0]].level !== HEADING) {
      end = overlapEnd(text, pieces, sums, from, to, next[1], ownSize, options, r);
    }
    const span = trimSpan(text, own.start, end);
    chunks.push({ index: chunks.length, content: text.slice(span.start, span.end), start: span.start, end: span.end });
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
      // A sentence that ends a line (text without blank lines) ends a paragraph more likely than not.
      level = separator.level === SENTENCE && m[0].includes('\n') ? SENTENCE_LINE : separator.level;
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
 * The chunks' own texts as half-open ranges of piece indexes, each with its measured size
 * when it was measured whole. A range fits in `size - overlap` (the room) unless it is a
 * single piece.
 *
 * 1. A heading starts a section once the text since the last section holds a tenth of the room.
 * 2. In a section, a boundary is a cut when it beats (by level, then by hash) every other
 *    boundary within a window around it: WINDOW of the room for paragraph boundaries,
 *    SENTENCE_WINDOW for weaker ones. A boundary within its window of the section's ends,
 *    or of a boundary of a stronger level, is no cut and competes by its level alone.
 *    Each decision reads only the text within its window, so an edit moves only the cuts
 *    near it, and no cut depends on where the previous chunk began.
 * 3. A span between two cuts that does not fit is cut at its strongest boundary among
 *    those that leave the fewest chunks, preferring those at least END_MARGIN of the
 *    room from its ends, and so on until every part fits.
 */
function segments(text: string, pieces: Piece[], sums: number[], size: number, overlap: number, r: Ruler): Array<[number, number, number | undefined]> {
  const room = size - overlap;
  const minSection = Math.max(1, Math.floor(room * MIN_SECTION_FRACTION));
  const score = (k: number): number => pieces[k].level * 2 ** 32 + anchorHash(text, pieces[k].start);
  const windowOf = (k: number): number => room * (pieces[k].level >= SENTENCE_LINE ? WINDOW : SENTENCE_WINDOW);
  const fits = (a: number, b: number): number | undefined | false => {
    if (b - a <= 1) return undefined;
    const estimate = sums[b] - sums[a];
    if (r.additive) return estimate <= room ? estimate : false;
    if (estimate > room * 1.25) return false;
    const measured = r.chunk(pieces[a].start, pieces[b - 1].end);
    return measured <= room ? measured : false;
  };
  const out: Array<[number, number, number | undefined]> = [];

  /** Candidates a+1..b-1 whose score beats every other within `w` on each side (deque maxima). */
  const localMaxima = (a: number, b: number, sc: number[], w: number): boolean[] => {
    const left: number[] = [];
    const right: number[] = [];
    let dq: number[] = [];
    for (let k = a + 1; k < b; k++) {
      while (dq.length > 0 && sums[k] - sums[dq[0]] > w) dq.shift();
      left[k] = dq.length > 0 ? sc[dq[0]] : -1;
      while (dq.length > 0 && sc[dq[dq.length - 1]] <= sc[k]) dq.pop();
      dq.push(k);
    }
    dq = [];
    for (let k = b - 1; k > a; k--) {
      while (dq.length > 0 && sums[dq[0]] - sums[k] > w) dq.shift();
      right[k] = dq.length > 0 ? sc[dq[0]] : -1;
      while (dq.length > 0 && sc[dq[dq.length - 1]] <= sc[k]) dq.pop();
      dq.push(k);
    }
    const best: boolean[] = [];
    for (let k = a + 1; k < b; k++) best[k] = sc[k] > left[k] && sc[k] > right[k];
    return best;
  };

  /** Highest level among candidates a+1..b-1 within `w` before (dir 1) or after (dir -1) each one. */
  const strongestNear = (a: number, b: number, w: number, dir: 1 | -1): number[] => {
    const res: number[] = [];
    const dq: number[] = [];
    for (let k = dir === 1 ? a + 1 : b - 1; dir === 1 ? k < b : k > a; k += dir) {
      while (dq.length > 0 && Math.abs(sums[k] - sums[dq[0]]) > w) dq.shift();
      res[k] = dq.length > 0 ? pieces[dq[0]].level : -1;
      while (dq.length > 0 && pieces[dq[dq.length - 1]].level <= pieces[k].level) dq.pop();
      dq.push(k);
    }
    return res;
  };

  const section = (a: number, b: number): void => {
    if (fits(a, b) !== false) return span(a, b);
    const wBlock = room * WINDOW;
    const wSentence = room * SENTENCE_WINDOW;
    const sc: number[] = [];
    const outside: boolean[] = [];
    for (let k = a + 1; k < b; k++) {
      const w = windowOf(k);
      outside[k] = sums[k] - sums[a] < w || sums[b] - sums[k] < w;
      sc[k] = score(k);
    }
    const near = [strongestNear(a, b, wBlock, 1), strongestNear(a, b, wBlock, -1), strongestNear(a, b, wSentence, 1), strongestNear(a, b, wSentence, -1)];
    for (let k = a + 1; k < b; k++) {
      const lv = pieces[k].level;
      const i = lv >= SENTENCE_LINE ? 0 : 2;
      if (Math.max(near[i][k], near[i + 1][k]) > lv) outside[k] = true;
      if (outside[k]) sc[k] = lv * 2 ** 32;
    }
    const byBlock = localMaxima(a, b, sc, wBlock);
    const bySentence = localMaxima(a, b, sc, wSentence);
    let prev = a;
    for (let k = a + 1; k < b; k++) {
      if (outside[k] || !(pieces[k].level >= SENTENCE_LINE ? byBlock[k] : bySentence[k])) continue;
      span(prev, k);
      prev = k;
    }
    span(prev, b);
  };

  const span = (a: number, b: number): void => {
    const f = fits(a, b);
    if (f !== false) {
      out.push([a, b, f]);
      return;
    }
    const total = Math.max(sums[b] - sums[a], room + 1);
    const parts = Math.max(2, Math.ceil(total / room));
    const margin = room * END_MARGIN;
    let best = -1;
    let bestScore = -1;
    for (let c = a + 1; c < b; c++) {
      const left = sums[c] - sums[a];
      const right = sums[b] - sums[c];
      const fewest = Math.max(1, Math.ceil(left / room)) + Math.max(1, Math.ceil(right / room)) <= parts;
      const tier = fewest ? (left >= margin && right >= margin ? 2 : 1) : 0;
      const s = tier * 2 ** 40 + score(c);
      if (s > bestScore) {
        best = c;
        bestScore = s;
      }
    }
    span(a, best);
    span(best, b);
  };

  let start = 0;
  for (let k = 1; k <= pieces.length; k++) {
    if (k === pieces.length || (pieces[k].level === HEADING && sums[k] - sums[start] >= minSection)) {
      section(start, k);
      start = k;
    }
  }
  return out;
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
 * Where the chunk made of pieces `fromIdx`..`toIdx` (exclusive) ends when it repeats up
 * to `overlap` of the next chunk (pieces `toIdx`..`nextTo`): the latest sentence end in
 * that window, else the latest word end in it; never at or past the next chunk's own
 * end, nor into a heading inside it.
 */
function overlapEnd(
  text: string,
  pieces: Piece[],
  sums: number[],
  fromIdx: number,
  toIdx: number,
  nextTo: number,
  own: number | undefined,
  o: SplitOptions,
  r: Ruler,
): number {
  const start = pieces[fromIdx].start;
  const end = pieces[toIdx - 1].end;
  const budget = Math.min(o.overlap, o.size - (own ?? r.chunk(start, end)));
  if (budget <= 0) return end;
  const fits = (p: number): boolean => r.additive || (r.chunk(end, p) <= o.overlap && r.chunk(start, p) <= o.size);
  const target = sums[toIdx] + budget;
  let limit = pieces[nextTo - 1].end;
  for (let i = toIdx + 1; i < nextTo; i++) {
    if (pieces[i].level === HEADING) {
      limit = pieces[i].start;
      break;
    }
  }
  // Where the window closes: inside the last piece starting at or before the target, in proportion.
  const j = firstSumAtOrAbove(sums, target + 1) - 1;
  let windowEnd = limit - 1;
  if (j < nextTo) {
    const p = pieces[j];
    windowEnd = Math.min(windowEnd, p.cost > 0 ? p.start + Math.floor(((target - sums[j]) * (p.end - p.start)) / p.cost) : p.end);
  }
  for (let q = windowEnd; q > end; q--) {
    if (isSentenceEnd(text, q) && fits(q)) return q;
  }
  for (let q = windowEnd; q > end; q--) {
    if (isWordEnd(text, q) && fits(q)) return q;
  }
  return end;
}

/** True when a sentence ends right before `p` (a mark, maybe closing quotes, then white space). */
function isSentenceEnd(text: string, p: number): boolean {
  if (p >= text.length || !/\s/.test(text[p])) return false;
  let i = p - 1;
  while (i > 0 && /["'\u201d\u2019)\]]/.test(text[i])) i--;
  return /[.!?\u3002\uff01\uff1f]/.test(text[i]);
}

function isWordEnd(text: string, p: number): boolean {
  return p < text.length && /\s/.test(text[p]) && !/\s/.test(text[p - 1]);
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

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

function trimSpan(text: string, start: number, end: number): { start: number; end: number } {
  while (start < end && /\s/.test(text[start])) start++;
  while (end > start && /\s/.test(text[end - 1])) end--;
  return { start, end };
}
