import { markdownBlocks } from './markdown-blocks';
import type { Ruler } from './text-ruler';
import { GLUE, HARD, LINE, Piece, SENTENCE, Span, WORD } from './text-span';

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

/**
 * Cuts the text into contiguous pieces, each no larger than `size` by the ruler (bar a
 * single character or surrogate pair larger on its own), that chunks are gathered from:
 * markdown blocks, a block too long cut at sentences, lines, words and as a last resort
 * inside a word (a code block only at blank lines and lines), and each heading joined
 * to the first piece of its block when both fit.
 */
export function textPieces(text: string, size: number, r: Ruler): Piece[] {
  return glueHeadings(
    markdownBlocks(text).flatMap((b) => atomize(text, b, b.code ? CODE_SEPARATORS : PROSE_SEPARATORS, 0, size, r)),
    size,
    r,
  );
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

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
