import { ServiceUnavailableException } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { SearchGate } from './search-gate';

const gate = (max: number, waitMs: number, poolSize = 10): SearchGate =>
  new SearchGate({ limits: { searchMaxConcurrency: max, searchQueueTimeoutMs: waitMs }, postgres: { poolSize } } as AppConfig);

describe('SearchGate', () => {
  it('runs at most the configured number at once, the rest in order as places free', async () => {
    const g = gate(2, 1000);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const job = (i: number) => g.run(async () => {
      peak = Math.max(peak, ++running);
      await new Promise((r) => setTimeout(r, 20));
      order.push(i);
      running--;
    });
    await Promise.all([0, 1, 2, 3, 4].map(job));
    expect(peak).toBe(2);
    expect(order.slice(2)).toEqual([2, 3, 4]);
  });

  it('refuses with 503 a search that waits longer than the queue timeout, and frees its place', async () => {
    const g = gate(1, 30);
    let release!: () => void;
    const first = g.run(() => new Promise<void>((r) => (release = r)));
    await expect(g.run(async () => 'late')).rejects.toBeInstanceOf(ServiceUnavailableException);
    release();
    await first;
    await expect(g.run(async () => 'next')).resolves.toBe('next');
  });

  it('defaults to half the pool', async () => {
    const g = gate(0, 10, 4);
    const hold: Array<() => void> = [];
    const a = g.run(() => new Promise<void>((r) => hold.push(r)));
    const b = g.run(() => new Promise<void>((r) => hold.push(r)));
    await expect(g.run(async () => 1)).rejects.toBeInstanceOf(ServiceUnavailableException);
    hold.forEach((r) => r());
    await Promise.all([a, b]);
  });
});
