import { loadConfig } from '../config/app-config';
import { PipelineConfig, chunkingFor, pipelineHash } from './pipeline';

describe('pipelineHash', () => {
  const chars: PipelineConfig = { chunkSize: 1000, chunkOverlap: 150, model: 'local:all-MiniLM-L6-v2', contextual: true, splitter: 2 };

  it('hashes pipelines in characters as before units existed, so stored documents still deduplicate', () => {
    // Values computed by the hash function that predates chunkUnit.
    expect(pipelineHash(chars)).toBe('0cab580fe368f330');
    expect(pipelineHash({ ...chars, chunkUnit: 'chars' })).toBe('0cab580fe368f330');
    expect(pipelineHash({ chunkSize: 500, chunkOverlap: 50, model: 'hash:fnv1a-uni-bigram-384' })).toBe('3bdf96bb992d87df');
  });

  it('changes with the unit and with the tokenizer', () => {
    const tokens: PipelineConfig = { ...chars, chunkUnit: 'tokens', tokenizer: 'wordpiece:all-MiniLM-L6-v2' };
    expect(pipelineHash(tokens)).not.toBe(pipelineHash(chars));
    expect(pipelineHash({ ...tokens, tokenizer: 'cl100k_base' })).not.toBe(pipelineHash(tokens));
    expect(pipelineHash({ ...tokens, chunkSize: 200 })).not.toBe(pipelineHash(tokens));
    expect(pipelineHash({ ...tokens })).toBe(pipelineHash(tokens));
  });
});

describe('chunkingFor', () => {
  it('uses the configured token sizes and records the unit and tokenizer', () => {
    expect(chunkingFor(loadConfig({}).chunking)).toEqual({
      chunkSize: 200,
      chunkOverlap: 30,
      chunkUnit: 'tokens',
      tokenizer: 'wordpiece:all-MiniLM-L6-v2',
    });
  });

  it('uses characters when the unit is chars', () => {
    expect(chunkingFor(loadConfig({ EMBEDDING_PROVIDER: 'hash' }).chunking)).toEqual({ chunkSize: 1000, chunkOverlap: 150, chunkUnit: 'chars' });
  });

  it("takes a request's own chunking in characters, its overlap at most half the size by default", () => {
    const config = loadConfig({}).chunking;
    expect(chunkingFor(config, { size: 300, overlap: 20 })).toEqual({ chunkSize: 300, chunkOverlap: 20, chunkUnit: 'chars' });
    expect(chunkingFor(config, { size: 200 })).toEqual({ chunkSize: 200, chunkOverlap: 100, chunkUnit: 'chars' });
  });
});
