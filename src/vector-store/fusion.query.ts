/**
 * How hybrid search merges its two lists. `relative`: each list's scores are normalised over
 * its own candidates (`minmax`: the best maps to 1, the last to 0; `distribution`: the
 * list's mean ± 3 standard deviations map to 0 and 1), then summed with the lists' weights,
 * so a list that is sure of its first row (a rare exact identifier, a close paraphrase)
 * outweighs one whose scores are flat. `rrf`: reciprocal rank fusion, Σ weight / (k + rank),
 * which keeps only the order of each list.
 */
export type FusionMethod = 'relative' | 'rrf';
export type ScoreNormalisation = 'minmax' | 'distribution';

export const FUSION_METHODS: readonly FusionMethod[] = ['relative', 'rrf'];
export const SCORE_NORMALISATIONS: readonly ScoreNormalisation[] = ['minmax', 'distribution'];

export interface FusionParams {
  /** `rrf` when absent. */
  method?: FusionMethod;
  /** `relative` only; `minmax` when absent. */
  normalisation?: ScoreNormalisation;
  /** `rrf` only: the rank constant. */
  k: number;
  vectorWeight: number;
  keywordWeight: number;
  /**
   * `relative` only: added to the keyword weight per unit of how decisive the keyword list is
   * for this query, the gap between its best document's score and the next one's relative
   * to the best (0 to 1): a rare exact match stands out of a flat distribution and should
   * carry the fusion, a keyword list of near-equal scores should not.
   */
  keywordDecisiveGain?: number;
  /**
   * Rank documents, not chunks: each list is reduced to its best chunk per document and the
   * documents' scores are fused, so a document found by both lists through different chunks
   * gets both. Every row then scores as its document does (its own fused score breaks ties).
   */
  byDocument?: boolean;
  /** With `byDocument`: the best chunks kept per document, so the rows returned reach enough documents. */
  chunksPerDocument?: number;
}

/**
 * How decisive the keyword list is, 0 to 1: (best − second) / best over its documents' best
 * scores; 1 when it found one document, 0 when it found none.
 */
const KEYWORD_DECISIVENESS = `SELECT CASE WHEN count(*) = 0 OR max(s) <= 0 THEN 0 WHEN count(*) = 1 THEN 1
                                          ELSE greatest(0, (max(s) - min(s)) / max(s)) END
                                 FROM (SELECT max(k.kscore) AS s FROM kw_ranked k JOIN chunks dc ON dc.id = k.id
                                        GROUP BY dc.document_id ORDER BY s DESC LIMIT 2) top2`;

/** The normalised score of a list's rows: `s` over the window of the whole list. */
function normalised(n: ScoreNormalisation, s: string): string {
  if (n === 'distribution') {
    return `CASE WHEN stddev_pop(${s}) OVER () > 0
              THEN (${s} - (avg(${s}) OVER () - 3 * stddev_pop(${s}) OVER ())) / (6 * stddev_pop(${s}) OVER ()) ELSE 1 END`;
  }
  return `CASE WHEN max(${s}) OVER () > min(${s}) OVER ()
            THEN (${s} - min(${s}) OVER ()) / (max(${s}) OVER () - min(${s}) OVER ()) ELSE 1 END`;
}

/**
 * The `fused` select of a hybrid search over `vec_ranked (id, distance, rank)` and
 * `kw_ranked (id, kscore, rank)`: `(id, vrank, krank, score)`, and with `byDocument` also
 * `doc_score`, by which rows are then ordered first. Its parameters are appended to `params`.
 */
export function fusedSelect(f: FusionParams, params: unknown[]): string {
  params.push(f.vectorWeight, f.keywordWeight);
  const [wv, wkBase] = [params.length - 1, params.length].map((i) => `$${i}::float8`);
  let wk = wkBase;
  let v: string;
  let kw: string;
  if ((f.method ?? 'rrf') === 'relative') {
    if (f.keywordDecisiveGain) {
      params.push(f.keywordDecisiveGain);
      wk = `(${wkBase} + $${params.length}::float8 * (${KEYWORD_DECISIVENESS}))`;
    }
    const n = f.normalisation ?? 'minmax';
    v = `SELECT id, rank, ${normalised(n, '(1 - distance)')} AS s FROM vec_ranked`;
    kw = `SELECT id, rank, ${normalised(n, 'kscore')} AS s FROM kw_ranked`;
  } else {
    params.push(f.k);
    const k = `$${params.length}::float8`;
    v = `SELECT id, rank, 1 / (${k} + rank) AS s FROM vec_ranked`;
    kw = `SELECT id, rank, 1 / (${k} + rank) AS s FROM kw_ranked`;
  }
  const rows = `SELECT coalesce(v.id, kw.id) AS id, v.rank AS vrank, kw.rank AS krank, v.s AS vs, kw.s AS ks,
                       coalesce(${wv} * v.s, 0) + coalesce(${wk} * kw.s, 0) AS score
                  FROM (${v}) v FULL JOIN (${kw}) kw ON kw.id = v.id`;
  if (!f.byDocument) return `SELECT id, vrank, krank, score FROM (${rows}) r`;
  // Per document: each list's best chunk (its normalised score; with rrf, its rank among the
  // list's documents), and the row's place among the document's chunks.
  const perDocument = `SELECT r.*, max(vs) OVER d AS dvs, max(ks) OVER d AS dks, min(vrank) OVER d AS dv, min(krank) OVER d AS dk,
                              row_number() OVER (PARTITION BY dc.document_id ORDER BY score DESC, r.id) AS nth
                         FROM (${rows}) r JOIN chunks dc ON dc.id = r.id
                       WINDOW d AS (PARTITION BY dc.document_id)`;
  let docScore: string;
  if ((f.method ?? 'rrf') === 'relative') {
    docScore = `coalesce(${wv} * dvs, 0) + coalesce(${wk} * dks, 0)`;
  } else {
    const k = `$${params.length}::float8`;
    docScore = `CASE WHEN dv IS NULL THEN 0 ELSE ${wv} / (${k} + dense_rank() OVER (ORDER BY dv)) END
              + CASE WHEN dk IS NULL THEN 0 ELSE ${wk} / (${k} + dense_rank() OVER (ORDER BY dk)) END`;
  }
  params.push(f.chunksPerDocument ?? 1000);
  return `SELECT id, vrank, krank, score, doc_score FROM (
            SELECT id, vrank, krank, score, nth, ${docScore} AS doc_score FROM (${perDocument}) p) s
           WHERE nth <= $${params.length}`;
}
