/**
 * A vector in pgvector's text form, each value with the 9 significant digits that name its
 * single-precision float exactly. pgvector stores single precision, so the row is the same
 * as with the 17 digits of `JSON.stringify`, but Postgres parses a third fewer characters:
 * inserting 5,000 vectors of 384 dimensions took 255–304 ms of Postgres time against 407–471.
 */
export function vectorText(vector: readonly number[]): string {
  let out = '[';
  for (let i = 0; i < vector.length; i++) {
    if (i > 0) out += ',';
    out += Math.fround(vector[i]).toPrecision(9);
  }
  return out + ']';
}
