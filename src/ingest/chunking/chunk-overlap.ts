import type { Ruler } from './text-ruler';
import type { Piece } from './text-span';

/**
 * Where the chunk made of pieces `fromIdx`.. (its own text ending at `end`, of measured
 * size `own` when known) begins so that it repeats at most `o.overlap` of the previous
 * chunk (which starts at `prevStart`) and stays within `o.size`: the earliest piece
 * boundary in that window, else the earliest word start in it. By characters the
 * window is exact; by measure it is found from the pieces' sizes (`sums[i]`: the size of
 * the pieces before piece i; inside a piece, in proportion to its length) and each
 * candidate is measured before it is taken.
 */
export function overlapStart(
  text: string,
  pieces: Piece[],
  sums: number[],
  prevStart: number,
  fromIdx: number,
  end: number,
  own: number | undefined,
  o: { size: number; overlap: number },
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

function isWordStart(text: string, p: number): boolean {
  return p > 0 && /\s/.test(text[p - 1]) && !/\s/.test(text[p]);
}
