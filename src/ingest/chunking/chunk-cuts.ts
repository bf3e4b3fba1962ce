import type { Ruler } from './text-ruler';
import { HEADING, Piece, SENTENCE } from './text-span';

/** Shortest chunk (as a fraction of the room left by the overlap) cut at a content-defined boundary. */
const MIN_FRACTION = 0.25;
/** A section shorter than this fraction is kept with the next one rather than made a chunk of its own. */
const MIN_SECTION_FRACTION = 0.1;
/** One in this many paragraph or sentence boundaries (by hash of the text after it) ends a chunk. */
const ANCHOR_MODULUS = 6;
/** Characters after a boundary that decide whether it is an anchor. */
const ANCHOR_WINDOW = 32;

/**
 * The chunks as half-open ranges of piece indexes, each with its own text's measured
 * size when it was measured whole. A range's text fits in `size - overlap` (so the
 * overlap has room) unless it is a single piece. By measure, the sum of the pieces'
 * sizes only estimates the chunk's: the chunk is measured whole and, while it is too
 * large, cut again with the estimate lowered by the excess (each time ending earlier).
 * `sums[i]` is the size of the pieces before piece i.
 */
export function* segments(
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
