import { planSlices } from './slice-plan';

describe('planSlices', () => {
  it('covers every chunk exactly once, in order, the last slice shorter', () => {
    const slices = planSlices(10, 4);
    expect(slices).toEqual([
      { slice: 0, from: 0, to: 4 },
      { slice: 1, from: 4, to: 8 },
      { slice: 2, from: 8, to: 10 },
    ]);
  });

  it('makes one slice of a document smaller than a slice, none of an empty one', () => {
    expect(planSlices(3, 256)).toEqual([{ slice: 0, from: 0, to: 3 }]);
    expect(planSlices(0, 256)).toEqual([]);
  });

  it('refuses a slice size that would never advance', () => {
    expect(() => planSlices(10, 0)).toThrow(RangeError);
  });
});
