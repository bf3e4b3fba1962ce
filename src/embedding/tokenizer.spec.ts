import { MiniLmTokenizer } from './local/minilm.tokenizer';
import { resolveModelFiles } from './local/model-files';
import { CL100K_TOKENIZER, MINILM_TOKENIZER, loadTokenizer, tokenizerSpecFor, tokenizerSpecForModelId } from './tokenizer';

describe('tokenizerSpecFor', () => {
  it('knows the local model and OpenAI embedding models, and nothing else', () => {
    expect(tokenizerSpecFor('local', undefined)).toBe(MINILM_TOKENIZER);
    expect(tokenizerSpecFor('openai', 'text-embedding-3-small')).toBe(CL100K_TOKENIZER);
    expect(tokenizerSpecFor('openai', 'text-embedding-3-large')).toBe(CL100K_TOKENIZER);
    expect(tokenizerSpecFor('openai', 'text-embedding-ada-002')).toBe(CL100K_TOKENIZER);
    expect(tokenizerSpecFor('openai', 'nomic-embed-text')).toBeNull();
    expect(tokenizerSpecFor('openai', 'BAAI/bge-small-en-v1.5')).toBeNull();
    expect(tokenizerSpecFor('hash', undefined)).toBeNull();
  });

  it('defaults leave the MiniLM window room for a context prefix and [CLS]/[SEP]', () => {
    expect(MINILM_TOKENIZER.defaultSize + 2).toBeLessThanOrEqual(256 - 40);
  });
});

describe('loadTokenizer', () => {
  it('counts MiniLM WordPiece tokens as the embedding worker encodes them, without [CLS]/[SEP]', () => {
    const minilm = loadTokenizer(MINILM_TOKENIZER.id);
    const reference = MiniLmTokenizer.fromFile(resolveModelFiles().tokenizer);
    expect(minilm.id).toBe(MINILM_TOKENIZER.id);
    expect(minilm.count('This is an example sentence')).toBe(5);
    for (const text of ['Héllo, wörld! 3.14159', 'fs.readFileSync(path, "utf8")', '这是第一句。', 'x'.repeat(150), '']) {
      expect(minilm.count(text)).toBe(reference.encode(text).length - 2);
    }
    expect(minilm.count('lorem ipsum '.repeat(300))).toBeGreaterThan(256); // not truncated
  });

  it('counts cl100k_base tokens, reading special-token markers as plain text', () => {
    const cl100k = loadTokenizer(CL100K_TOKENIZER.id);
    expect(cl100k.id).toBe('cl100k_base');
    expect(cl100k.count('hello world')).toBe(2);
    expect(cl100k.count('tiktoken is great!')).toBe(6);
    expect(cl100k.count('a <|endoftext|> b')).toBeGreaterThan(3);
  });

  it('loads each tokenizer once per process and refuses unknown ids', () => {
    expect(loadTokenizer(CL100K_TOKENIZER.id)).toBe(loadTokenizer(CL100K_TOKENIZER.id));
    expect(() => loadTokenizer('o200k_base')).toThrow(/unknown tokenizer "o200k_base"/);
  });
});

describe('tokenizerSpecForModelId', () => {
  it('knows the local model and OpenAI\'s own embedding models by the id recorded with each chunk', () => {
    expect(tokenizerSpecForModelId('local:all-MiniLM-L6-v2')).toBe(MINILM_TOKENIZER);
    expect(tokenizerSpecForModelId('openai:text-embedding-3-small')).toBe(CL100K_TOKENIZER);
    expect(tokenizerSpecForModelId('openai:nomic-embed-text')).toBeNull();
    expect(tokenizerSpecForModelId('hash:fnv1a-uni-bigram-384')).toBeNull();
  });
});
