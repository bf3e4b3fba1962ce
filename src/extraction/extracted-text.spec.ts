import { pagesBetween } from './extracted-text';

describe('pagesBetween', () => {
  const starts = [0, 100, 250];

  it('names the one page a span lies in', () => {
    expect(pagesBetween(starts, 10, 90)).toEqual([1]);
    expect(pagesBetween(starts, 260, 400)).toEqual([3]);
  });

  it('names every page a span crosses, the end being exclusive', () => {
    expect(pagesBetween(starts, 90, 260)).toEqual([1, 2, 3]);
    expect(pagesBetween(starts, 50, 100)).toEqual([1]);
    expect(pagesBetween(starts, 100, 101)).toEqual([2]);
  });
});
