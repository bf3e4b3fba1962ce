import { EmbedderRegistry, GenerationModel } from '../../embedding/embedder-registry';
import { EmbeddingProvider } from '../../embedding/embedding-provider';
import { QueryEmbeddings } from './query-embeddings';

/** A model that counts what it is asked and can be told to fail. */
class CountingModel implements EmbeddingProvider {
  readonly dimension = 2;
  readonly modelId = 'counting';
  calls: string[] = [];
  failNext = false;

  async embed(texts: string[]): Promise<number[][]> {
    this.calls.push(...texts);
    if (this.failNext) {
      this.failNext = false;
      throw new Error('model unavailable');
    }
    return texts.map((t) => [t.length, 1]);
  }
}

const generation = (id: number): GenerationModel => ({ id, modelId: 'counting', dimension: 2, spec: null });

describe('QueryEmbeddings', () => {
  let model: CountingModel;
  let queries: QueryEmbeddings;

  beforeEach(() => {
    model = new CountingModel();
    const registry: Pick<EmbedderRegistry, 'providerFor'> = { providerFor: async () => model };
    queries = new QueryEmbeddings(registry as EmbedderRegistry);
  });

  it('asks the model once for a repeated query', async () => {
    expect(await queries.embed(generation(1), 'backup')).toEqual([6, 1]);
    expect(await queries.embed(generation(1), 'backup')).toEqual([6, 1]);
    expect(model.calls).toEqual(['backup']);
  });

  it('asks again for another generation: a new model never gets an old vector', async () => {
    await queries.embed(generation(1), 'backup');
    await queries.embed(generation(2), 'backup');
    expect(model.calls).toEqual(['backup', 'backup']);
  });

  it('does not remember a failure', async () => {
    model.failNext = true;
    await expect(queries.embed(generation(1), 'backup')).rejects.toThrow('model unavailable');
    expect(await queries.embed(generation(1), 'backup')).toEqual([6, 1]);
    expect(model.calls).toEqual(['backup', 'backup']);
  });

  it('forgets the least recently used query when full', async () => {
    await queries.embed(generation(1), 'q0');
    await queries.embed(generation(1), 'q1');
    for (let i = 2; i < 2000; i++) await queries.embed(generation(1), `q${i}`);
    await queries.embed(generation(1), 'q0'); // used again: q1 is now the oldest
    await queries.embed(generation(1), 'new');
    expect(queries.size).toBe(2000);
    model.calls = [];
    await queries.embed(generation(1), 'q0');
    await queries.embed(generation(1), 'q1');
    expect(model.calls).toEqual(['q1']);
  });
});
