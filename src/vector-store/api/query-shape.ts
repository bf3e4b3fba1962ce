// Shapes of exact identifiers users paste into a search: flags (--max-old-space-size),
// CONSTANT_CASE codes (ERR_REQUIRE_ESM), dotted API names (dns.lookup), camelCase names
// (execFileSync), calls (fn()), words mixing letters and digits (ipv4first, and codes such as
// the SQLSTATE 40P01 that start with digits; "2nd" and "64bit" stay prose). Prose rarely
// contains any of them. PascalCase is left out: it is as often a product name
// (JavaScript, WebAssembly) as a class name.
const IDENTIFIER_SHAPES: RegExp[] = [
  /(^|\s)--?[A-Za-z][\w-]*/,
  /\b[A-Z][A-Z0-9]*(_[A-Z0-9]+)+\b/,
  /\b[A-Za-z_$][\w$]*\.[A-Za-z_$][\w$]*\b/,
  /\b[a-z]+[A-Z][A-Za-z0-9]*\b/,
  /\b\w+\(\)/,
  /\b[A-Za-z]+[0-9]+[A-Za-z0-9]*\b/,
  /\b[0-9]+[A-Za-z]+[0-9][A-Za-z0-9]*\b/,
];

/**
 * True when a query quotes something exact (a flag, an error code, an API name). Keyword
 * ranking finds such strings verbatim where embeddings blur them, so hybrid search
 * weighs its keyword list more for these queries (SEARCH_IDENTIFIER_KEYWORD_WEIGHT).
 */
export function quotesIdentifier(query: string): boolean {
  return IDENTIFIER_SHAPES.some((shape) => shape.test(query));
}
