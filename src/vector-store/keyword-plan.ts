/** How often each lexeme occurs: the share of chunks holding it, as Postgres's statistics estimate it. */
export interface LexemeFrequencies {
  /** Share of chunks (0-1) holding each of the most common lexemes. */
  common: ReadonlyMap<string, number>;
  /** Every lexeme not in `common` is held by fewer than this share of chunks (0 when nothing is known). */
  ceiling: number;
}

/** How the keyword list finds and scores its candidates. */
export interface KeywordPlan {
  /** Chunks in the namespace (BM25's N). */
  total: number;
  /**
   * Null: every chunk holding a query word is scored (exact BM25). Otherwise only chunks
   * holding every query word, chunks holding one of these lexemes (the query's rarest) and
   * the `coordination` candidates are, at most `limit` of each.
   */
  candidates: string[] | null;
  limit: number;
  /** Estimated document frequency of lexemes left out of `candidates` (their count among the candidates would be far too low). */
  estimatedDf: Array<{ lexeme: string; df: number }>;
  /**
   * Chunks holding at least `atLeast` of these query words are scored too, at most `limit`
   * of them: those that hold many of the query's common words and none of the chosen ones,
   * or a rare word past the limit of its scan. Exhaustive BM25 ranks them high; chosen by
   * rarity alone they were missed. Null when no number of the words fits the budget, or
   * when finding them would read too many of the text index's postings.
   */
  coordination: { lexemes: string[]; atLeast: number } | null;
  /**
   * Chunks holding at least `atLeast` of these words, the least common of those left out
   * of `candidates`, are scored too, at most `limit` of them: those holding many of the
   * query's common words and too few of its rarest for `coordination`. Null when no number
   * of the words fits `limit`, or when finding them would read too many postings.
   */
  commonCoordination: { lexemes: string[]; atLeast: number; limit: number } | null;
}

/**
 * Words the coordination candidates consider, the rarest of the query: the text index
 * evaluates a query that grows with their combinations for every row holding one of them.
 * Measured on 100k chunks (bench:search-quality), 4 to 8 words gave the same MRR within
 * noise, and each word past 6 cost about 1 ms more per search.
 */
const COORDINATION_MAX_WORDS = 6;

/**
 * Most postings the coordination candidates may read per candidate of the budget. The text
 * index evaluates the query at about 0.3-0.5 µs per posting where scoring a candidate costs
 * about 6.5 µs, so the cap keeps the scan within about twice the cost of scoring the budget.
 * Measured with bench:search-quality: at 100k chunks the coordination candidates raised the
 * keyword list's MRR@10 from 0.430 to 0.479 (exhaustive 0.496) for 9.8 → 13.6 ms per search;
 * at 1M, uncapped, they cost 27.5 → 45 ms for no gain (0.388 → 0.374, exhaustive 0.381),
 * and at this cap they are left out there.
 */
const COORDINATION_MAX_POSTINGS_PER_CANDIDATE = 40;

/**
 * Share of the budget the common words' coordination candidates may take. Measured with
 * bench:search-quality at 100k chunks: they raised the keyword list's MRR@10 from 0.480 to
 * 0.488 (exhaustive 0.496) with half the budget as with all of it, for about 4.5 ms more
 * per keyword search against 7.7 ms with all of it; on the other corpora, from 0.509 to
 * 0.513 (PostgreSQL, exhaustive 0.519) and from 0.407 to 0.428 (man-pages, 0.431).
 */
const COMMON_COORDINATION_BUDGET_SHARE = 0.5;

/**
 * Probability that at least k of independent events of probabilities `p` happen, for
 * every k (index k of the result).
 */
export function atLeastProbabilities(p: readonly number[]): number[] {
  // exactly[j]: probability that exactly j of the events so far happened.
  let exactly = [1];
  for (const pi of p) {
    const next = new Array<number>(exactly.length + 1).fill(0);
    exactly.forEach((q, j) => {
      next[j] += q * (1 - pi);
      next[j + 1] += q * pi;
    });
    exactly = next;
  }
  const atLeast = new Array<number>(exactly.length).fill(0);
  for (let k = exactly.length - 1, sum = 0; k >= 0; k--) atLeast[k] = sum += exactly[k];
  return atLeast;
}

/**
 * The least number (2 or more) of the query's rarest words that chunks must hold so that,
 * the words taken as independent, such chunks are estimated to fit the budget and the index
 * reads at most COORDINATION_MAX_POSTINGS_PER_CANDIDATE postings per candidate; none when no
 * number does. `queryWords`: the query's distinct words, which need not be all considered.
 */
function coordinationOf(words: ReadonlyArray<{ lexeme: string; share: number }>, queryWords: number, total: number, indexedChunks: number, budget: number): KeywordPlan['coordination'] {
  const rarest = words.slice(0, COORDINATION_MAX_WORDS);
  if (rarest.length < 2 || total <= 0) return null;
  const atLeast = atLeastProbabilities(rarest.map((w) => Math.min(1, w.share)));
  // Every word of the query is the whole-query scan's already.
  const most = rarest.length === queryWords ? rarest.length - 1 : rarest.length;
  for (let k = 2; k <= most; k++) {
    if (atLeast[k] * total > budget) continue;
    // A row holding none of the (count - k + 1) rarest words cannot hold k: the index reads
    // their postings in full, over every chunk it holds (the shares are of those).
    // A larger k needs fewer of them.
    const shares = rarest.slice(0, rarest.length - k + 1).reduce((sum, w) => sum + w.share, 0);
    if (shares * indexedChunks <= COORDINATION_MAX_POSTINGS_PER_CANDIDATE * budget) return { lexemes: rarest.map((w) => w.lexeme), atLeast: k };
  }
  return null;
}

/**
 * The chunks whose postings the text index reads for a namespace's keyword scans: every
 * chunk of the table, or the namespace's own when they are matched row by row (`matchOwnRows`).
 */
export function textIndexChunks(namespaceChunks: number, tableChunks: number, ownRows: boolean): number {
  return ownRows ? namespaceChunks : Math.max(tableChunks, namespaceChunks);
}

/**
 * Decides which chunks the keyword list scores. Exact BM25 scores every chunk holding a
 * query word, which costs time in proportion to how common the words are: a query of
 * common words in a namespace of 100k chunks reads most of it. So the candidates are
 * the chunks holding the query's rare words (those Postgres's statistics do not list as
 * common), and then its common words from the least common on, as long as their
 * estimated matches stay within `budget`; at least the least common word when all are
 * common; at most `budget` of them, beside at most `budget` chunks holding every query
 * word (they rank first: see `searchQuery`) and at most `budget` holding many of its
 * rarest words (`coordination`). Words left out still count in each candidate's
 * score, with their estimated frequency. When every word is in, the result is exact BM25:
 * always so in a namespace small enough that no word is estimated past the budget.
 * `indexedChunks`: the chunks whose postings the text index reads for it (`textIndexChunks`).
 */
export function planKeywords(lexemes: readonly string[], freqs: LexemeFrequencies, total: number, budget: number, indexedChunks = total): KeywordPlan {
  const unique = [...new Set(lexemes)];
  const rare = unique.filter((l) => !freqs.common.has(l));
  const common = unique
    .filter((l) => freqs.common.has(l))
    .map((lexeme) => ({ lexeme, matches: (freqs.common.get(lexeme) as number) * total }))
    .sort((a, b) => a.matches - b.matches || a.lexeme.localeCompare(b.lexeme));
  const chosen = [...rare];
  // The rare words' matches are not known, only that each is below the ceiling; the cap bounds them.
  let matches = 0;
  for (const t of common) {
    if (chosen.length > 0 && matches + t.matches > budget) break;
    chosen.push(t.lexeme);
    matches += t.matches;
  }
  if (chosen.length === unique.length) return { total, candidates: null, limit: budget, estimatedDf: [], coordination: null, commonCoordination: null };
  const left = common.filter((t) => !chosen.includes(t.lexeme));
  return {
    total,
    candidates: chosen,
    limit: budget,
    estimatedDf: left.map((t) => ({ lexeme: t.lexeme, df: Math.max(1, Math.round(t.matches)) })),
    // A rare word's share is known only to be below the ceiling: counted at it.
    coordination: coordinationOf(
      [...rare.map((lexeme) => ({ lexeme, share: freqs.ceiling })), ...common.map((t) => ({ lexeme: t.lexeme, share: freqs.common.get(t.lexeme) as number }))],
      unique.length,
      total,
      indexedChunks,
      budget,
    ),
    commonCoordination: commonCoordinationOf(left, unique.length, total, indexedChunks, budget),
  };
}

/**
 * Coordination over the common words left out of the candidates: a chunk holding several
 * of them and none of the rare words, such as a passage that names the query's subject
 * in common words, ranks high in exhaustive BM25 yet holds too few of the six rarest words
 * for `coordination`.
 */
function commonCoordinationOf(left: ReadonlyArray<{ lexeme: string; matches: number }>, queryWords: number, total: number, indexedChunks: number, budget: number): KeywordPlan['commonCoordination'] {
  const limit = Math.max(1, Math.round(budget * COMMON_COORDINATION_BUDGET_SHARE));
  const words = left.map((t) => ({ lexeme: t.lexeme, share: t.matches / total }));
  const planned = coordinationOf(words, queryWords, total, indexedChunks, limit);
  return planned && { ...planned, limit };
}

/** Largest share of the table a namespace may hold and still match its keywords row by row. */
const OWN_ROWS_MAX_SHARE = 0.01;

/**
 * Whether the keyword list matches a namespace's words row by row over its own rows
 * rather than through the text index shared by every namespace. Row by row reads each
 * row's text vector (stored out of line); the index reads the postings of the query's
 * words in every namespace. Measured on 213k chunks, row by row was 2-3 times dearer for
 * namespaces of 1.7% and 4.7% of the table; the index's cost grows with the table and row
 * by row's with the namespace, which puts the crossing near 1% (an extrapolation: not yet
 * measured below). Below it, a namespace's cost no longer grows with its neighbours.
 */
export function matchOwnRows(namespaceChunks: number, tableChunks: number, maxChunks: number): boolean {
  return namespaceChunks <= maxChunks && namespaceChunks <= tableChunks * OWN_ROWS_MAX_SHARE;
}

/** Smallest share of the table from which a namespace's keyword matches come from the text index alone. */
const TEXT_INDEX_ONLY_MIN_SHARE = 0.1;

/**
 * Whether the keyword list should find a namespace's matches through the text index alone,
 * checking the namespace on each row, rather than intersecting them with the namespace
 * index. Intersecting reads every entry of the namespace index; for a namespace holding
 * much of the table that costs more than the rows it rules out. Measured on 2M chunks, a
 * namespace of half the table read 1M namespace entries (about 110 ms) per candidate scan,
 * and a search of common words took 560 ms instead of 312 (a rarer query, 76 instead of 4).
 * Below a tenth of the table the intersection rules out most rows and is kept.
 */
export function matchTextIndexOnly(namespaceChunks: number, tableChunks: number): boolean {
  return tableChunks > 0 && namespaceChunks >= tableChunks * TEXT_INDEX_ONLY_MIN_SHARE;
}
