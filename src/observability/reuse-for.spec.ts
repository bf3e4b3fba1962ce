import { ReuseFor } from './reuse-for';

describe('ReuseFor', () => {
  it('loads once per period, however many callers ask', async () => {
    let loads = 0;
    const cache = new ReuseFor(() => 1000, async () => ++loads);
    expect(await Promise.all([cache.get(0), cache.get(10), cache.get(999)])).toEqual([1, 1, 1]);
    expect(await cache.get(1000)).toBe(2);
  });

  it('forgets a failed load so the next caller tries again', async () => {
    let calls = 0;
    const cache = new ReuseFor(() => 60000, async () => {
      calls++;
      if (calls === 1) throw new Error('store down');
      return 'ok';
    });
    await expect(cache.get(0)).rejects.toThrow('store down');
    expect(await cache.get(1)).toBe('ok');
  });

  it('with a period of 0 loads on every call', async () => {
    let loads = 0;
    const cache = new ReuseFor(() => 0, async () => ++loads);
    await cache.get(5);
    expect(await cache.get(5)).toBe(2);
  });
});
