import { loadConfig } from '../config/app-config';
import { PipelineConfig, chunkingFor, pipelineHash } from './pipeline';

describe('pipelineHash', () => {
  const chars: PipelineConfig = { chunkSize: 1000, chunkOverlap: 150, contextual: true, splitter: 2 };

  it('hashes pipelines in characters from size, overlap, contextual and splitter, as before units existed', () => {
    // First 16 hex digits of sha256(JSON [chunkSize, chunkOverlap, contextual, splitter]): the fields the
    // hash always had, less the model.
    expect(pipelineHash(chars)).toBe('c135a8215358f6ff');
    expect(pipelineHash({ ...chars, chunkUnit: 'chars' })).toBe('c135a8215358f6ff');
    expect(pipelineHash({ chunkSize: 500, chunkOverlap: 50 })).toBe('b6ef1eb1bc62778f');
  });

  it('ignores the model a stored pipeline may still carry, so it matches the same settings posted today', () => {
    // Rows stored before the model left the pipeline: their stored hashes were 0cab580fe368f330 and 3bdf96bb992d87df.
    expect(pipelineHash({ ...chars, model: 'local:all-MiniLM-L6-v2' })).toBe(pipelineHash(chars));
    expect(pipelineHash({ chunkSize: 500, chunkOverlap: 50, model: 'hash:fnv1a-uni-bigram-384' })).toBe('b6ef1eb1bc62778f');
  });

  it('changes with what shapes the chunks: sizes, contextual, splitter', () => {
    expect(pipelineHash({ ...chars, chunkOverlap: 100 })).not.toBe(pipelineHash(chars));
    expect(pipelineHash({ ...chars, contextual: false })).not.toBe(pipelineHash(chars));
    expect(pipelineHash({ ...chars, splitter: 3 })).not.toBe(pipelineHash(chars));
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
