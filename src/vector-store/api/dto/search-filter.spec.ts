import { metadataFilterProblem } from './search.dto';

const values = (n: number): string[] => Array.from({ length: n }, (_, i) => `v${i}`);

describe('metadataFilterProblem: what a filter may cost', () => {
  it('accepts up to 100 combinations of $in values', () => {
    expect(metadataFilterProblem({ a: { $in: values(100) }, b: 'x' })).toBeNull();
    expect(metadataFilterProblem({ a: { $in: values(10) }, b: { $in: values(10) } })).toBeNull();
  });

  it('refuses more combinations than that, before anything reaches Postgres', () => {
    const tooMany = /more than 100 combinations of values/;
    expect(metadataFilterProblem({ a: { $in: values(100) }, b: { $in: values(2) } })).toMatch(tooMany);
    expect(metadataFilterProblem({ a: { $in: values(100) }, b: { $in: values(100) }, c: { $in: values(100) } })).toMatch(tooMany);
  });

  it('refuses more than 20 keys and unknown operators', () => {
    const keys = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 1]));
    expect(metadataFilterProblem(keys)).toBe('filter may have at most 20 keys');
    expect(metadataFilterProblem({ a: { $gt: 1 } })).toMatch(/filter\.a must be a string, number or boolean/);
  });
});
