import { PipelineConfig } from '../../documents/pipeline';
import { CL100K_TOKENIZER, MINILM_TOKENIZER, Tokenizer, loadTokenizer } from '../../embedding/tokenizer';
import { MAX_CHARS_PER_TOKEN, splitForPipeline, tokenMeasure } from './pipeline-splitter';
import { splitText } from './text-splitter';

const text = Array.from({ length: 60 }, (_, i) => `Paragraph ${i} explains the retry queue. It has two sentences, the second longer than the first.`).join('\n\n');
const base: PipelineConfig = { chunkSize: 300, chunkOverlap: 40 };

describe('splitForPipeline', () => {
  it('splits in characters when the pipeline predates units or says chars', () => {
    const expected = splitText(text, { size: 300, overlap: 40 });
    expect(splitForPipeline(text, base)).toEqual(expected);
    expect(splitForPipeline(text, { ...base, chunkUnit: 'chars' })).toEqual(expected);
  });

  it.each([MINILM_TOKENIZER.id, CL100K_TOKENIZER.id])('splits in tokens of the tokenizer the pipeline names (%s)', (id) => {
    const pipeline: PipelineConfig = { ...base, chunkSize: 60, chunkOverlap: 10, chunkUnit: 'tokens', tokenizer: id };
    const requested: string[] = [];
    const chunks = splitForPipeline(text, pipeline, (wanted) => {
      requested.push(wanted);
      return loadTokenizer(wanted);
    });
    expect(new Set(requested)).toEqual(new Set([id]));
    const tokenizer = loadTokenizer(id);
    expect(chunks.length).toBeGreaterThan(10);
    for (const c of chunks) expect(tokenizer.count(c.content)).toBeLessThanOrEqual(60);
    // The chunks are close to full: sizes are in tokens, not characters.
    const mean = chunks.reduce((n, c) => n + tokenizer.count(c.content), 0) / chunks.length;
    expect(mean).toBeGreaterThan(30);
  });

  it('refuses a tokens pipeline that names no tokenizer, and an unknown tokenizer', () => {
    expect(() => splitForPipeline(text, { ...base, chunkUnit: 'tokens' })).toThrow(/names no tokenizer/);
    expect(() => splitForPipeline(text, { ...base, chunkUnit: 'tokens', tokenizer: 'mystery' })).toThrow(/unknown tokenizer/);
  });
});

describe('tokenMeasure', () => {
  it('counts tokens, but at least one per 16 characters, so a run read as one token is still cut', () => {
    const oneToken: Tokenizer = { id: 'one', count: (t) => (t === '' ? 0 : 1) };
    const measure = tokenMeasure(oneToken);
    expect(measure('short')).toBe(1);
    expect(measure('x'.repeat(MAX_CHARS_PER_TOKEN * 10))).toBe(10);
    const blob = 'A'.repeat(5000); // WordPiece reads a word this long as a single [UNK]
    expect(loadTokenizer(MINILM_TOKENIZER.id).count(blob)).toBe(1);
    const chunks = splitText(`Intro.\n\n${blob}\n\nOutro.`, { size: 50, overlap: 0, measure: tokenMeasure(loadTokenizer(MINILM_TOKENIZER.id)) });
    for (const c of chunks) expect(c.content.length).toBeLessThanOrEqual(50 * MAX_CHARS_PER_TOKEN);
    expect(chunks.map((c) => c.content).join('')).toBe(`Intro.${blob}Outro.`);
  });
});
