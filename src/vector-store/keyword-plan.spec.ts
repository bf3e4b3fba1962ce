import { LexemeFrequencies, atLeastProbabilities, matchOwnRows, matchTextIndexOnly, planKeywords } from './keyword-plan';

const freqs = (common: Record<string, number>, ceiling = 0.01): LexemeFrequencies => ({ common: new Map(Object.entries(common)), ceiling });

describe('planKeywords', () => {
  it('scores every match (exact BM25) while the words fit in the budget', () => {
    const plan = planKeywords(['backup', 'restor'], freqs({ backup: 0.02 }), 10_000, 1000);
    expect(plan).toEqual({ total: 10_000, candidates: null, limit: 1000, estimatedDf: [], coordination: null, commonCoordination: null });
  });

  it('is exact whatever the words when none is common', () => {
    expect(planKeywords(['kubernet', 'ingress', 'timeout'], freqs({}), 1_000_000, 1000).candidates).toBeNull();
  });

  it('takes the rare words and the least common words that fit, and estimates the others', () => {
    const plan = planKeywords(['ingress', 'file', 'valu', 'set'], freqs({ file: 0.3, valu: 0.2, set: 0.0005 }), 1_000_000, 1000);
    expect(plan.candidates).toEqual(['ingress', 'set']);
    expect(plan.estimatedDf).toEqual([
      { lexeme: 'valu', df: 200_000 },
      { lexeme: 'file', df: 300_000 },
    ]);
    expect(plan.limit).toBe(1000);
  });

  it('takes the least common word when every word is common', () => {
    const plan = planKeywords(['file', 'valu', 'new'], freqs({ file: 0.3, valu: 0.2, new: 0.4 }), 100_000, 1000);
    expect(plan.candidates).toEqual(['valu']);
    expect(plan.estimatedDf.map((e) => e.lexeme)).toEqual(['file', 'new']);
  });

  it('counts a repeated word once', () => {
    const plan = planKeywords(['file', 'file', 'valu'], freqs({ file: 0.3, valu: 0.2 }), 100_000, 1000);
    expect(plan.candidates).toEqual(['valu']);
    expect(plan.estimatedDf).toEqual([{ lexeme: 'file', df: 30_000 }]);
  });
});

describe('coordination candidates', () => {
  it('asks for the fewest of the rarest words whose estimated matches fit the budget', () => {
    // 100k chunks; four words at 10% (the rare one counted at the ceiling): P(at least 2) = 0.052
    // (5,230 chunks), P(at least 3) = 0.0037 (370).
    const plan = planKeywords(['zeppelin', 'file', 'valu', 'set'], freqs({ file: 0.1, valu: 0.1, set: 0.1 }, 0.1), 100_000, 1000);
    expect(plan.candidates).toEqual(['zeppelin']);
    expect(plan.coordination).toEqual({ lexemes: ['zeppelin', 'file', 'set', 'valu'], atLeast: 3 });
  });

  it('considers the six rarest words at most, rare ones first', () => {
    const common = Object.fromEntries(['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7'].map((w, i) => [w, 0.05 * (i + 1)]));
    const plan = planKeywords(['a7', 'a6', 'a5', 'a4', 'a3', 'a2', 'a1', 'rare'], freqs(common, 0.01), 100_000, 1000);
    expect(plan.coordination?.lexemes).toEqual(['rare', 'a1', 'a2', 'a3', 'a4', 'a5']);
  });

  it('plans none when the text index would read too many postings for them', () => {
    // At 1M chunks, at least 4 of the 5 words fits the budget (460 chunks), but the two rarest
    // have 200k postings; all five is the whole-query scan's.
    const plan = planKeywords(['zeppelin', 'file', 'valu', 'set', 'new'], freqs({ file: 0.1, valu: 0.1, set: 0.1, new: 0.1 }, 0.1), 1_000_000, 1000);
    expect(plan.candidates).toEqual(['zeppelin']);
    expect(plan.coordination).toBeNull();
    // Within the cap at 100k (20k postings).
    expect(planKeywords(['zeppelin', 'file', 'valu', 'set', 'new'], freqs({ file: 0.1, valu: 0.1, set: 0.1, new: 0.1 }, 0.1), 100_000, 1000).coordination?.atLeast).toBe(3);
  });

  it('takes more of the words when fewer would read too many postings', () => {
    // The six rarest of nine words: one rare (counted at the ceiling, 1%) and five at 5%. At
    // 1M chunks at least 4 of them fits the budget (about 40 chunks) but its three rarest words
    // have 110k postings, at least 5 reads 60k, and all six only the rare word's 10k.
    const common = Object.fromEntries(['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8'].map((w) => [w, 0.05]));
    const words = ['rare', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8'];
    expect(planKeywords(words, freqs(common, 0.01), 1_000_000, 1000).coordination?.atLeast).toBe(6);
    // At 100k at least 3 fits the budget (about 140 chunks) and reads 16k postings.
    expect(planKeywords(words, freqs(common, 0.01), 100_000, 1000).coordination?.atLeast).toBe(3);
  });

  it('leaves every word of the query to the whole-query scan', () => {
    expect(planKeywords(['zeppelin', 'file'], freqs({ file: 0.001 }, 0.001), 100_000, 50).coordination).toBeNull();
  });

  it("counts the postings of every chunk the text index holds, not only the namespace's", () => {
    const args = [['zeppelin', 'file', 'valu', 'set'], freqs({ file: 0.1, valu: 0.1, set: 0.1 }, 0.1), 100_000, 1000] as const;
    // Two words' postings: 20k of the namespace's own, 50k over a table of 250k chunks.
    expect(planKeywords(...args, 100_000).coordination).not.toBeNull();
    expect(planKeywords(...args, 250_000).coordination).toBeNull();
  });

  it('plans none when no number of the words fits the budget', () => {
    expect(planKeywords(['file', 'valu', 'new'], freqs({ file: 0.9, valu: 0.9, new: 0.9 }), 100_000, 1000).coordination).toBeNull();
  });

  it('computes the chance that at least k of independent events happen', () => {
    const p = atLeastProbabilities([0.5, 0.5, 0.5]);
    expect(p.map((x) => Number(x.toFixed(6)))).toEqual([1, 0.875, 0.5, 0.125]);
    expect(atLeastProbabilities([])).toEqual([1]);
  });
});

describe('common words\' coordination candidates', () => {
  // Three rare words and six common ones, at 10-30% of the chunks each.
  const common = { c1: 0.1, c2: 0.12, c3: 0.15, c4: 0.2, c5: 0.25, c6: 0.3 };
  const words = ['r1', 'r2', 'r3', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6'];

  it('asks for the fewest of the words left out whose estimated matches fit half the budget', () => {
    // 20k chunks: P(at least 3) = 0.079 (1,582 chunks), P(at least 4) = 0.0115 (230).
    const plan = planKeywords(words, freqs(common), 20_000, 1000);
    expect(plan.candidates).toEqual(['r1', 'r2', 'r3']);
    expect(plan.coordination?.lexemes).toEqual(['r1', 'r2', 'r3', 'c1', 'c2', 'c3']);
    expect(plan.commonCoordination).toEqual({ lexemes: ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'], atLeast: 4, limit: 500 });
  });

  it('takes more of the words when fewer would read too many postings', () => {
    // 100k chunks: at least 5 fits (87 chunks) but reads the two rarest words' 22k postings, over 40 per candidate.
    expect(planKeywords(words, freqs(common), 100_000, 1000).commonCoordination?.atLeast).toBe(6);
    // Over a table of 2M chunks even the rarest word's postings are too many.
    expect(planKeywords(words, freqs(common), 1_000_000, 1000, 2_000_000).commonCoordination).toBeNull();
  });

  it('plans none when every common word is a candidate', () => {
    expect(planKeywords(['r1', 'c1'], freqs({ c1: 0.001 }), 100_000, 1000).commonCoordination).toBeNull();
  });
});

describe('matchOwnRows', () => {
  it('matches row by row only a namespace of at most 1% of the table and of the size limit', () => {
    expect(matchOwnRows(10_000, 2_000_000, 20_000)).toBe(true);
    expect(matchOwnRows(10_000, 213_000, 20_000)).toBe(false);
    expect(matchOwnRows(30_000, 10_000_000, 20_000)).toBe(false);
    expect(matchOwnRows(0, 0, 20_000)).toBe(true);
  });
});

describe('matchTextIndexOnly', () => {
  it('takes the text index alone for a namespace of at least a tenth of the table', () => {
    expect(matchTextIndexOnly(1_000_000, 2_000_000)).toBe(true);
    expect(matchTextIndexOnly(100_000, 1_000_000)).toBe(true);
    expect(matchTextIndexOnly(99_999, 1_000_000)).toBe(false);
    expect(matchTextIndexOnly(0, 0)).toBe(false);
  });
});
