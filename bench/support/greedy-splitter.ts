// The greedy splitter the service used before edit-stable boundaries (SPLITTER_VERSION 1),
// kept verbatim for bench/edit-stability.bench.ts to compare against.
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

interface Span {
  start: number;
  end: number;
}

// Coarsest first: a piece is cut at a finer level only when it is still too long.
const SEPARATORS: RegExp[] = [
  /\n[ \t]*\n\s*/g, // paragraphs
  /[.!?]+["'\u201d\u2019)\]]*\s+|[\u3002\uff01\uff1f]+\s*/g, // sentences (CJK marks need no space)
  /\n/g, // lines
  /\s+/g, // words
];

/**
 * Splits text recursively: on paragraphs, then sentences, then lines, then words, and
 * only as a last resort inside a word (never inside a surrogate pair). Pieces are merged
 * greedily up to `size`; each chunk after the first starts up to `overlap` characters
 * before the previous one ended, at a piece or word boundary. Chunks are trimmed and
 * never empty. Deterministic: the same text and options give the same chunks.
 */
export function splitTextGreedy(text: string, options: SplitOptions): TextChunk[] {
  const { size, overlap } = options;
  if (!Number.isInteger(size) || size < 1) throw new RangeError('size must be a positive integer');
  if (!Number.isInteger(overlap) || overlap < 0 || overlap >= size) {
    throw new RangeError('overlap must be a non-negative integer smaller than size');
  }
  const atoms = atomize(text, { start: 0, end: text.length }, 0, size);
  const chunks: TextChunk[] = [];
  const emit = (start: number, end: number): void => {
    const span = trimSpan(text, start, end);
    if (span.end > span.start) {
      chunks.push({ index: chunks.length, content: text.slice(span.start, span.end), start: span.start, end: span.end });
    }
  };

  let cs = 0;
  let ce = 0;
  for (const atom of atoms) {
    if (atom.end - cs <= size) {
      ce = atom.end;
      continue;
    }
    emit(cs, ce);
    cs = nextStart(text, atoms, cs, ce, atom, options);
    ce = atom.end;
  }
  if (ce > cs) emit(cs, ce);
  return chunks;
}

/** Cuts a span into contiguous pieces no longer than `size`, coarsest separators first. */
function atomize(text: string, span: Span, level: number, size: number): Span[] {
  if (span.end - span.start <= size) return [span];
  if (level >= SEPARATORS.length) return cutHard(text, span, size);
  const pieces = cutAfter(text, span, SEPARATORS[level]);
  if (pieces.length === 1) return atomize(text, span, level + 1, size);
  return pieces.flatMap((p) => atomize(text, p, level + 1, size));
}

/** Splits a span right after each match of `separator`, so the pieces cover it exactly. */
function cutAfter(text: string, span: Span, separator: RegExp): Span[] {
  const re = new RegExp(separator.source, 'g');
  re.lastIndex = span.start;
  const pieces: Span[] = [];
  let start = span.start;
  for (let m = re.exec(text); m !== null && m.index < span.end; m = re.exec(text)) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    const cut = Math.min(m.index + m[0].length, span.end);
    if (cut > start && cut < span.end) {
      pieces.push({ start, end: cut });
      start = cut;
    }
  }
  pieces.push({ start, end: span.end });
  return pieces;
}

/** Fixed-size cuts for text with no separator at all, kept off surrogate pairs. */
function cutHard(text: string, span: Span, size: number): Span[] {
  const pieces: Span[] = [];
  let start = span.start;
  while (start < span.end) {
    let end = Math.min(start + size, span.end);
    if (end < span.end && isLowSurrogate(text.charCodeAt(end)) && end - 1 > start) end--;
    pieces.push({ start, end });
    start = end;
  }
  return pieces;
}

/**
 * Where the chunk after [cs, ce) starts so that it repeats at most `overlap` characters:
 * the earliest piece boundary in the overlap window, else the earliest word start, then
 * moved forward until `next` still fits within `size`.
 */
function nextStart(text: string, atoms: Span[], cs: number, ce: number, next: Span, o: SplitOptions): number {
  if (o.overlap === 0) return ce;
  const windowStart = Math.max(cs + 1, ce - o.overlap);
  const fits = (p: number): boolean => next.end - p <= o.size;
  for (let i = firstAtomAtOrAfter(atoms, windowStart); i < atoms.length && atoms[i].start < ce; i++) {
    if (fits(atoms[i].start)) return atoms[i].start;
  }
  for (let p = windowStart; p < ce; p++) {
    if (isWordStart(text, p) && fits(p)) return p;
  }
  return ce;
}

/** Binary search: index of the first atom starting at or after `pos`. */
function firstAtomAtOrAfter(atoms: Span[], pos: number): number {
  let lo = 0;
  let hi = atoms.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (atoms[mid].start < pos) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function isWordStart(text: string, p: number): boolean {
  return p > 0 && /\s/.test(text[p - 1]) && !/\s/.test(text[p]);
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

function trimSpan(text: string, start: number, end: number): Span {
  while (start < end && /\s/.test(text[start])) start++;
  while (end > start && /\s/.test(text[end - 1])) end--;
  return { start, end };
}
