import { TtlCache } from './key-lookup.cache';

describe('TtlCache', () => {
  it('forgets an entry once its time is up', () => {
    let now = 1000;
    const cache = new TtlCache<string>(1000, 10, () => now);
    cache.set('k', 'v');
    now = 1999;
    expect(cache.get('k')).toBe('v');
    now = 2000;
    expect(cache.get('k')).toBeUndefined();
  });

  it('drops the oldest entry beyond its size', () => {
    const cache = new TtlCache<number>(1000, 2);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([undefined, 2, 3]);
  });
});
