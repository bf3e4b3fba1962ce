import { MiniLmTokenizer } from './minilm.tokenizer';
import { resolveModelFiles } from './model-files';

describe('MiniLmTokenizer', () => {
  const tokenizer = MiniLmTokenizer.fromFile(resolveModelFiles().tokenizer);

  it('matches the reference WordPiece ids', () => {
    expect(tokenizer.encode('This is an example sentence')).toEqual([101, 2023, 2003, 2019, 2742, 6251, 102]);
  });

  it('truncates to 256 tokens keeping [CLS] and [SEP] (ignores the 128 limit in tokenizer.json)', () => {
    const ids = tokenizer.encode('lorem ipsum dolor sit amet '.repeat(200));
    expect(ids).toHaveLength(256);
    expect(ids[0]).toBe(101);
    expect(ids[255]).toBe(102);
    expect(tokenizer.encode('word '.repeat(150)).length).toBe(152); // > 128, not truncated
  });

  it('counts tokens without [CLS]/[SEP] and without truncation', () => {
    expect(tokenizer.count('This is an example sentence')).toBe(5);
    expect(tokenizer.count('')).toBe(0);
    expect(tokenizer.count('lorem ipsum dolor sit amet '.repeat(200))).toBe(tokenizer.count('lorem ipsum dolor sit amet ') * 200);
  });

  it('encodes empty text as [CLS] [SEP]', () => {
    expect(tokenizer.encode('')).toEqual([101, 102]);
  });

  it('pads a batch to its longest sequence', () => {
    const b = tokenizer.pad([
      [101, 5, 6, 102],
      [101, 102],
    ]);
    expect(b.seqLen).toBe(4);
    expect(Array.from(b.inputIds)).toEqual([101n, 5n, 6n, 102n, 101n, 102n, 0n, 0n]);
    expect(Array.from(b.attentionMask)).toEqual([1n, 1n, 1n, 1n, 1n, 1n, 0n, 0n]);
  });
});
