import type { Question } from './corpus-files';

/** Document-level quality of a ranking over a set of questions. */
export interface Metrics {
  hit1: number;
  hit5: number;
  mrr10: number;
}

/** Scores one ranking (document ids, best first, each once) against the expected document. */
export function score(ranked: readonly string[], expected: string): Metrics {
  const pos = ranked.slice(0, 10).indexOf(expected);
  return { hit1: pos === 0 ? 1 : 0, hit5: pos >= 0 && pos < 5 ? 1 : 0, mrr10: pos >= 0 ? 1 / (pos + 1) : 0 };
}

/** Mean of the questions' metrics; `rank` gives each question's document ranking. */
export async function evaluate(questions: readonly Question[], rank: (q: Question) => Promise<readonly string[]> | readonly string[]): Promise<Metrics> {
  const sum = { hit1: 0, hit5: 0, mrr10: 0 };
  for (const q of questions) {
    const m = score(await rank(q), q.expected);
    sum.hit1 += m.hit1;
    sum.hit5 += m.hit5;
    sum.mrr10 += m.mrr10;
  }
  const n = Math.max(1, questions.length);
  return { hit1: sum.hit1 / n, hit5: sum.hit5 / n, mrr10: sum.mrr10 / n };
}

/** Each document once, in order of first appearance. */
export function distinct(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

export function formatMetrics(m: Metrics): string {
  return [m.hit1, m.hit5, m.mrr10].map((x) => x.toFixed(3)).join(' / ');
}

/** The p-th percentile (0-100) of durations in ms. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
