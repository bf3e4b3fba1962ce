import { GenerationChangedError } from './generation';
import { retryOnGenerationChange } from './retry-on-generation-change';

/** Work that throws the given errors in turn, then resolves 'done'; counts its runs. */
function scripted(errors: Error[]): { work: () => Promise<string>; runs: () => number } {
  let runs = 0;
  return {
    work: async () => {
      const err = errors[runs++];
      if (err) throw err;
      return 'done';
    },
    runs: () => runs,
  };
}

describe('retryOnGenerationChange', () => {
  it('returns what the work returns the first time, without refreshing', async () => {
    const { work, runs } = scripted([]);
    const refresh = jest.fn();
    await expect(retryOnGenerationChange(work, refresh)).resolves.toBe('done');
    expect(runs()).toBe(1);
    expect(refresh).not.toHaveBeenCalled();
  });

  it('refreshes and runs the work again after a generation change', async () => {
    const { work, runs } = scripted([new GenerationChangedError(1)]);
    const refresh = jest.fn();
    await expect(retryOnGenerationChange(work, refresh)).resolves.toBe('done');
    expect(runs()).toBe(2);
    expect(refresh).toHaveBeenCalledTimes(1);
  });

  it('gives up after three rounds, throwing the third change', async () => {
    const third = new GenerationChangedError(3);
    const { work, runs } = scripted([new GenerationChangedError(1), new GenerationChangedError(2), third]);
    const refresh = jest.fn();
    await expect(retryOnGenerationChange(work, refresh)).rejects.toBe(third);
    expect(runs()).toBe(3);
    expect(refresh).toHaveBeenCalledTimes(2);
  });

  it('throws any other error at once', async () => {
    const failure = new Error('connection terminated');
    const { work, runs } = scripted([failure]);
    const refresh = jest.fn();
    await expect(retryOnGenerationChange(work, refresh)).rejects.toBe(failure);
    expect(runs()).toBe(1);
    expect(refresh).not.toHaveBeenCalled();
  });
});
