/** A lexeme as a tsquery operand: quoted, so no character of it is read as an operator. */
function operand(lexeme: string): string {
  return `'${lexeme.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/**
 * A tsquery true for a text holding at least `k` of `lexemes` (distinct, 1 <= k <= their
 * count). Written by splitting the words in halves: at least k of both halves is at least
 * j of the first and k - j of the second for some j. That keeps the query a few hundred
 * characters for eight words where the list of every k-word combination runs to thousands,
 * and the text index evaluates it once per candidate row. The index reads only the
 * postings of the (count - k + 1) rarest words in full: a row holding none of them cannot hold k.
 */
export function atLeastTsquery(lexemes: readonly string[], k: number): string {
  if (k < 1 || k > lexemes.length) throw new Error(`at least ${k} of ${lexemes.length} words`);
  return atLeast(lexemes, k) as string;
}

/** true: always holds (k <= 0); false: cannot hold (k above the words' count); else the query text. */
function atLeast(words: readonly string[], k: number): string | boolean {
  if (k <= 0) return true;
  if (k > words.length) return false;
  if (k === 1) return group(words.map(operand), ' | ');
  if (k === words.length) return group(words.map(operand), ' & ');
  const half = words.length >> 1;
  const [first, second] = [words.slice(0, half), words.slice(half)];
  const alternatives: string[] = [];
  for (let j = 0; j <= k; j++) {
    const [a, b] = [atLeast(first, j), atLeast(second, k - j)];
    if (a === false || b === false) continue;
    // Both true cannot happen for k >= 1: one side needs at least one word.
    alternatives.push(a === true ? (b as string) : b === true ? a : `${a} & ${b}`);
  }
  return group(alternatives, ' | ');
}

function group(parts: string[], operator: string): string {
  return parts.length === 1 ? parts[0] : `(${parts.join(operator)})`;
}
