import { toSql } from 'pgvector';
import { vectorText } from './vector-text';

describe('vectorText', () => {
  it('names the same single-precision values as the full-precision form', () => {
    const values = [0, -0.5, 1, 1e-9, -3.4e38, 0.1, 1 / 3, ...Array.from({ length: 384 }, (_, i) => Math.sin(i * 12.9898) * 0.2)];
    const parse = (text: string): number[] => text.slice(1, -1).split(',').map((s) => Math.fround(Number(s)));
    expect(parse(vectorText(values))).toEqual(parse(toSql(values) as string));
    expect(parse(vectorText(values))).toEqual(values.map((v) => Math.fround(v)));
  });

  it('is shorter than the full-precision form', () => {
    const v = Array.from({ length: 384 }, (_, i) => Math.cos(i) / 19.6);
    expect(vectorText(v).length).toBeLessThan(0.75 * (toSql(v) as string).length);
  });

  it('writes the empty vector and single values in pgvector form', () => {
    expect(vectorText([])).toBe('[]');
    expect(vectorText([0.25, -1])).toBe('[0.250000000,-1.00000000]');
  });
});
