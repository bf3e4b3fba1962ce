/**
 * Fusion methods compared on the two lists each question gets from the service (the vector
 * list by cosine similarity, the keyword list by BM25, each as the search SQL ranks it),
 * fused here in JavaScript so hundreds of settings cost no query. Parameters are chosen by
 * leave-one-corpus-out: for each corpus, the setting best on the other corpora is reported
 * on it.
 */
import type { QuestionType } from './corpus-files';
import { Metrics, distinct, score } from './metrics';

/** One row of a list: chunk, its document (file name), the list's own score. */
export interface ListHit {
  chunkId: string;
  doc: string;
  score: number;
}

/** The two lists of one question, best first, as long as the largest candidate count swept. */
export interface QueryLists {
  corpus: string;
  type: QuestionType;
  expected: string;
  /** The query quotes an identifier (`quotesIdentifier`). */
  identifier: boolean;
  /** The question, so a later `--sweep-only` recognises identifiers as the code then does. */
  question?: string;
  vector: ListHit[];
  keyword: ListHit[];
}

export interface FusionVariant {
  name: string;
  /** Documents best first. */
  rank(l: QueryLists): string[];
}

type Normaliser = (scores: number[]) => (s: number) => number;

const minMax: Normaliser = (scores) => {
  const max = Math.max(...scores);
  const min = Math.min(...scores);
  return (s) => (max > min ? (s - min) / (max - min) : 1);
};

/** Distribution-based: mean ± 3 standard deviations of the list map to 0 and 1. */
const distribution: Normaliser = (scores) => {
  const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
  const sd = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / scores.length);
  return (s) => (sd > 0 ? (s - (mean - 3 * sd)) / (6 * sd) : 1);
};

/**
 * How decisive the keyword list is, 0 to 1: the gap between its best document and the next,
 * relative to the best (a rare exact match stands out; a flat distribution gives ~0).
 */
export function keywordDecisiveness(keyword: readonly ListHit[]): number {
  const best = new Map<string, number>();
  for (const h of keyword) if (!best.has(h.doc)) best.set(h.doc, h.score);
  const [s1, s2] = [...best.values()];
  if (s1 === undefined || s1 <= 0) return 0;
  return s2 === undefined ? 1 : Math.max(0, (s1 - s2) / s1);
}

interface Weights {
  vector: number;
  keyword: number;
}

/** Per-list contributions, then documents by their best chunk (`chunk`) or by fusing per-document lists (`doc`). */
function fuse(l: QueryLists, candidates: number, contribution: (list: ListHit[]) => (h: ListHit, rank: number) => number, w: Weights, agg: 'chunk' | 'doc'): string[] {
  const lists: Array<[ListHit[], number]> = [
    [l.vector.slice(0, candidates), w.vector],
    [l.keyword.slice(0, candidates), w.keyword],
  ];
  const total = new Map<string, number>();
  const docOf = new Map<string, string>();
  for (const [list, weight] of lists) {
    if (list.length === 0) continue;
    // Document-level fusion: each list reduced to its best chunk per document, ranked anew
    // (scores still normalised over the whole list, as the search SQL does).
    const rows = agg === 'doc' ? list.filter((h, i) => list.findIndex((x) => x.doc === h.doc) === i) : list;
    const f = contribution(list);
    rows.forEach((h, i) => {
      const key = agg === 'doc' ? h.doc : h.chunkId;
      docOf.set(key, h.doc);
      total.set(key, (total.get(key) ?? 0) + weight * f(h, i + 1));
    });
  }
  const ranked = [...total.entries()].sort((a, b) => b[1] - a[1]);
  return distinct(ranked.map(([key]) => docOf.get(key)!));
}

function rrf(k: number): (list: ListHit[]) => (h: ListHit, rank: number) => number {
  return () => (_h, rank) => 1 / (k + rank);
}

function normalised(n: Normaliser): (list: ListHit[]) => (h: ListHit, rank: number) => number {
  return (list) => {
    const f = n(list.map((h) => h.score));
    return (h) => f(h.score);
  };
}

/** Documents of one list alone, for the lists' own scores beside the fusions. */
export function listOnly(which: 'vector' | 'keyword'): FusionVariant {
  return { name: which, rank: (l) => distinct(l[which].map((h) => h.doc)) };
}

/** The grid of fusion settings compared. `wkId` is the keyword weight for queries quoting an identifier. */
export function fusionGrid(): FusionVariant[] {
  const out: FusionVariant[] = [];
  for (const agg of ['chunk', 'doc'] as const) {
    for (const c of [50, 100, 200]) {
      for (const k of [10, 30, 60]) {
        for (const wk of [0.3, 0.5, 0.7, 1]) {
          for (const wkId of [wk, 2, 4]) {
            out.push({
              name: `rrf k${k} wk${wk} id${wkId} c${c} ${agg}`,
              rank: (l) => fuse(l, c, rrf(k), { vector: 1, keyword: l.identifier ? wkId : wk }, agg),
            });
          }
        }
      }
      for (const [label, norm] of [['minmax', minMax], ['dbsf', distribution]] as const) {
        for (const wk of [0.2, 0.3, 0.4, 0.5, 0.7, 1]) {
          for (const wkId of [wk, 1, 2]) {
            out.push({
              name: `${label} wk${wk} id${wkId} c${c} ${agg}`,
              rank: (l) => fuse(l, c, normalised(norm), { vector: 1, keyword: l.identifier ? wkId : wk }, agg),
            });
          }
          // Keyword weight rising with how decisive the keyword list is for this query, from a
          // base of its own for queries quoting an identifier.
          for (const gain of [0.5, 1, 2, 4]) {
            for (const wkId of [wk, 1, 2, 4]) {
              out.push({
                name: `${label} wk${wk}+${gain}*decisive${wkId === wk ? '' : ` id${wkId}`} c${c} ${agg}`,
                rank: (l) => fuse(l, c, normalised(norm), { vector: 1, keyword: (l.identifier ? wkId : wk) + gain * keywordDecisiveness(l.keyword.slice(0, c)) }, agg),
              });
            }
          }
        }
      }
    }
  }
  return out;
}

export type Scores = Map<string, Map<QuestionType, Metrics>>;

/** A variant's metrics per corpus and question type. */
export function scoreVariant(v: FusionVariant, lists: readonly QueryLists[]): Scores {
  const sums = new Map<string, Map<QuestionType, { m: Metrics; n: number }>>();
  for (const l of lists) {
    const m = score(v.rank(l), l.expected);
    const byType = sums.get(l.corpus) ?? new Map<QuestionType, { m: Metrics; n: number }>();
    sums.set(l.corpus, byType);
    const s = byType.get(l.type) ?? { m: { hit1: 0, hit5: 0, mrr10: 0 }, n: 0 };
    byType.set(l.type, { m: { hit1: s.m.hit1 + m.hit1, hit5: s.m.hit5 + m.hit5, mrr10: s.m.mrr10 + m.mrr10 }, n: s.n + 1 });
  }
  const out: Scores = new Map();
  for (const [corpus, byType] of sums) {
    out.set(corpus, new Map([...byType].map(([t, s]) => [t, { hit1: s.m.hit1 / s.n, hit5: s.m.hit5 / s.n, mrr10: s.m.mrr10 / s.n }])));
  }
  return out;
}

/**
 * What a setting is chosen by: over the given corpora and both question types, the mean of
 * hit@1 and MRR@10, each corpus and type weighing the same.
 */
export function objective(s: Scores, corpora: readonly string[]): number {
  let sum = 0;
  let n = 0;
  for (const c of corpora) {
    for (const m of s.get(c)?.values() ?? []) {
      sum += (m.hit1 + m.mrr10) / 2;
      n++;
    }
  }
  return n === 0 ? 0 : sum / n;
}

/**
 * The goal's own measure: over the given corpora, question types and the metrics hit@1 and
 * MRR@10, the smallest margin of the fusion over the better of its two lists (negative when
 * it loses to one of them somewhere).
 */
export function worstMargin(s: Scores, lists: readonly Scores[], corpora: readonly string[]): number {
  let worst = Infinity;
  for (const c of corpora) {
    for (const [t, m] of s.get(c) ?? []) {
      for (const metric of ['hit1', 'mrr10'] as const) {
        const best = Math.max(...lists.map((l) => l.get(c)?.get(t)?.[metric] ?? 0));
        worst = Math.min(worst, m[metric] - best);
      }
    }
  }
  return worst;
}
