import { cappedJitteredBackoff } from './backoff';

describe('cappedJitteredBackoff', () => {
  it('doubles per attempt between half and all of the ceiling', () => {
    const low = cappedJitteredBackoff(1000, 60000, () => 0);
    const high = cappedJitteredBackoff(1000, 60000, () => 1);
    expect([1, 2, 3, 4].map(low)).toEqual([500, 1000, 2000, 4000]);
    expect([1, 2, 3, 4].map(high)).toEqual([1000, 2000, 4000, 8000]);
  });

  it('never exceeds the cap', () => {
    const high = cappedJitteredBackoff(1000, 5000, () => 1);
    expect(high(10)).toBe(5000);
    expect(high(50)).toBe(5000);
  });
});
