import type { EmbeddingProviderName } from '../../config/app-config';
import type { EmbeddingSpec } from '../../embedding/embedding-spec';
import { Generation, GenerationStatus } from './generation';
import { StartFacts, decideAtStart } from './model-change.policy';

const spec = (modelId: string, dimension: number, provider: EmbeddingProviderName = 'openai'): EmbeddingSpec => ({
  provider,
  modelId,
  dimension,
});

/** A generation of `model`; `spec: null` makes one recorded before generations kept a spec. */
function generation(id: number, status: GenerationStatus, model: EmbeddingSpec, over: Partial<Generation> = {}): Generation {
  return {
    id,
    status,
    modelId: model.modelId,
    dimension: model.dimension,
    spec: model,
    previousId: null,
    createdAt: new Date('2025-01-01T00:00:00Z'),
    activatedAt: status === 'building' ? null : new Date('2025-01-01T00:00:00Z'),
    finishedAt: status === 'retired' || status === 'cancelled' ? new Date('2025-02-01T00:00:00Z') : null,
    ...over,
  };
}

const SMALL = spec('openai:text-embedding-3-small', 1536);
const ADA = spec('openai:text-embedding-ada-002', 1536);
const LARGE = spec('openai:text-embedding-3-large', 3072);
const OTHER = spec('openai:other-embedder', 1024);

/** A process configured for SMALL finding what `over` says (by default: nothing yet, an empty chunks table of its dimension). */
function facts(over: Partial<StartFacts> = {}): StartFacts {
  return {
    wanted: SMALL,
    active: null,
    building: null,
    setAside: null,
    columnDimension: SMALL.dimension,
    hasChunks: false,
    allowModelMismatch: false,
    onModelChange: 'reindex',
    ...over,
  };
}

describe('decideAtStart', () => {
  describe('with no active generation', () => {
    it('refuses when the chunks table is missing', () => {
      expect(decideAtStart(facts({ columnDimension: null }))).toEqual({ action: 'refuse', message: expect.stringMatching(/chunks table is missing.*migrat/) });
    });

    it('refuses when chunks exist that no generation records', () => {
      expect(decideAtStart(facts({ hasChunks: true }))).toEqual({ action: 'refuse', message: expect.stringMatching(/chunks exist.*migrat/) });
    });

    it('records the wanted model as active over an empty table of its dimension', () => {
      expect(decideAtStart(facts())).toEqual({ action: 'create-active', resizeTo: null });
    });

    it('resizes an empty table of another dimension first', () => {
      expect(decideAtStart(facts({ columnDimension: 384 }))).toEqual({ action: 'create-active', resizeTo: 1536 });
    });
  });

  it('serves the active generation of the wanted model, with no warning', () => {
    expect(decideAtStart(facts({ active: generation(1, 'active', SMALL) }))).toEqual({
      action: 'serve', recordSpec: null, mismatch: false, warning: null, note: null,
    });
  });

  it('records the wanted spec for an active generation of the same model stored without one', () => {
    expect(decideAtStart(facts({ active: generation(1, 'active', SMALL, { spec: null }) }))).toEqual({
      action: 'serve', recordSpec: SMALL, mismatch: false, warning: null, note: null,
    });
  });

  it.each([
    ['local:all-MiniLM-L6-v2', { provider: 'local', quantize: false }],
    ['local:all-MiniLM-L6-v2-int8', { provider: 'local', quantize: true }],
    ['hash:fnv1a-uni-bigram-384', { provider: 'hash' }],
  ])('derives the spec of a built-in model (%s) stored without one, and re-embeds', (modelId, derived) => {
    const active = generation(1, 'active', spec(modelId, 384), { spec: null });
    expect(decideAtStart(facts({ active }))).toEqual({
      action: 'start-reindex', recordSpec: { ...derived, modelId, dimension: 384 }, warning: expect.stringContaining(modelId),
    });
  });

  it('serves with the configured model under ALLOW_MODEL_MISMATCH when the dimensions agree', () => {
    expect(decideAtStart(facts({ active: generation(1, 'active', ADA), allowModelMismatch: true }))).toEqual({
      action: 'serve', recordSpec: null, mismatch: true, warning: expect.stringContaining('ALLOW_MODEL_MISMATCH'), note: null,
    });
  });

  it('refuses ALLOW_MODEL_MISMATCH across dimensions', () => {
    expect(decideAtStart(facts({ active: generation(1, 'active', OTHER), allowModelMismatch: true }))).toEqual({
      action: 'refuse', message: expect.stringContaining('ALLOW_MODEL_MISMATCH cannot mix dimensions'),
    });
  });

  it('refuses a model change under EMBEDDING_MODEL_CHANGE=refuse, naming both models', () => {
    const decision = decideAtStart(facts({ active: generation(1, 'active', ADA), onModelChange: 'refuse' }));
    expect(decision).toEqual({ action: 'refuse', message: expect.stringContaining('EMBEDDING_MODEL_CHANGE=reindex') });
    expect(decision).toHaveProperty('message', expect.stringContaining(ADA.modelId));
    expect(decision).toHaveProperty('message', expect.stringContaining(SMALL.modelId));
  });

  it('refuses to re-embed from a hosted model stored without a spec (its queries could not be embedded meanwhile)', () => {
    const decision = decideAtStart(facts({ active: generation(1, 'active', ADA, { spec: null }) }));
    expect(decision).toEqual({ action: 'refuse', message: expect.stringContaining(`configure ${ADA.modelId} again`) });
  });

  it('resumes a re-embed into the wanted model', () => {
    const building = generation(2, 'building', SMALL, { previousId: 1 });
    expect(decideAtStart(facts({ active: generation(1, 'active', ADA), building }))).toEqual({
      action: 'serve', recordSpec: null, mismatch: false, warning: null, note: expect.stringContaining('resuming the re-embed into generation 2'),
    });
  });

  it('leaves a re-embed into a third model be, serving the active generation with a warning', () => {
    const building = generation(2, 'building', LARGE, { previousId: 1 });
    expect(decideAtStart(facts({ active: generation(1, 'active', ADA), building }))).toEqual({
      action: 'serve', recordSpec: null, mismatch: false, warning: expect.stringContaining(`re-embed into ${LARGE.modelId}`), note: null,
    });
  });

  it.each([
    ['retired', 'generation 3 was replaced'],
    ['cancelled', 'a re-embed into it was cancelled'],
  ] as const)('does not undo a change away from the wanted model (%s): serves, pointing to POST /v1/reindex', (status, why) => {
    const setAside = generation(3, status, SMALL);
    const decision = decideAtStart(facts({ active: generation(4, 'active', ADA), setAside }));
    expect(decision).toEqual({ action: 'serve', recordSpec: null, mismatch: false, warning: expect.stringContaining('POST /v1/reindex'), note: null });
    expect(decision).toHaveProperty('warning', expect.stringContaining(why));
  });

  it('otherwise starts re-embedding into the wanted model', () => {
    expect(decideAtStart(facts({ active: generation(1, 'active', ADA) }))).toEqual({
      action: 'start-reindex', recordSpec: null, warning: expect.stringContaining(`search answers from ${ADA.modelId}`),
    });
  });
});
