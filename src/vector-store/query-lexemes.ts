/** Keyword queries whose lexemes a process keeps: a few hundred KB. */
const CAPACITY = 2000;

/**
 * The distinct lexemes of a keyword query, as Postgres's text-search configuration makes
 * them (stemmed, stop words dropped), remembered for the most recent CAPACITY queries: a
 * repeated query plans its keyword list without a round trip to the database.
 */
export class QueryLexemes {
  // A Map keeps insertion order: re-inserting on a hit makes the first key the least recently used.
  private readonly known = new Map<string, Promise<string[]>>();

  constructor(private readonly read: (text: string) => Promise<string[]>) {}

  of(text: string): Promise<string[]> {
    let lexemes = this.known.get(text);
    if (lexemes) {
      this.known.delete(text);
    } else {
      lexemes = this.read(text);
      // A failure is not remembered: the next identical query reads again.
      lexemes.catch(() => this.known.delete(text));
      if (this.known.size >= CAPACITY) this.known.delete(this.known.keys().next().value as string);
    }
    this.known.set(text, lexemes);
    return lexemes;
  }
}
