import { sizeInMb, workMemFor } from './namespace-index.builder';

describe('maintenance_work_mem for a namespace index build', () => {
  it('asks for what the graph needs: 100k rows of 384 dimensions fit in a few hundred MB, not in 64 MB', () => {
    const mb = workMemFor(100_000, 384, 16, 1024);
    expect(mb).toBeGreaterThan(64);
    expect(mb).toBeGreaterThanOrEqual(Math.ceil((100_000 * 4 * 384) / (1024 * 1024)));
    expect(mb).toBeLessThan(1024);
  });

  it('grows with the rows, the dimension and m', () => {
    expect(workMemFor(200_000, 384, 16, 10_000)).toBeGreaterThan(workMemFor(100_000, 384, 16, 10_000));
    expect(workMemFor(100_000, 1536, 16, 10_000)).toBeGreaterThan(workMemFor(100_000, 384, 16, 10_000));
    expect(workMemFor(100_000, 384, 32, 10_000)).toBeGreaterThan(workMemFor(100_000, 384, 16, 10_000));
  });

  it('never asks for less than 64 MB nor more than the cap', () => {
    expect(workMemFor(10, 384, 16, 1024)).toBe(64);
    expect(workMemFor(10_000_000, 1536, 16, 1024)).toBe(1024);
  });

  it('reads Postgres sizes in MB', () => {
    expect(sizeInMb('1GB')).toBe(1024);
    expect(sizeInMb('256MB')).toBe(256);
    expect(sizeInMb('2048kB')).toBe(2);
    expect(() => sizeInMb('lots')).toThrow();
  });
});
