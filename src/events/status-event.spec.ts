import { compareStreamIds, isStreamId } from './status-event';

describe('stream ids', () => {
  it('orders by time, then sequence, numerically', () => {
    expect(compareStreamIds('9-0', '10-0')).toBeLessThan(0);
    expect(compareStreamIds('10-2', '10-10')).toBeLessThan(0);
    expect(compareStreamIds('10-10', '10-2')).toBeGreaterThan(0);
    expect(compareStreamIds('1764579601234-0', '1764579601234-0')).toBe(0);
  });

  it('accepts only ms-seq ids', () => {
    expect(isStreamId('1764579601234-0')).toBe(true);
    expect(isStreamId('yesterday')).toBe(false);
    expect(isStreamId('1-2-3')).toBe(false);
    expect(isStreamId('+')).toBe(false);
  });
});
