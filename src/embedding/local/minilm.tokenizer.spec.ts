import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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

  it('counts what one pass over the whole text yields, word by word or not', () => {
    const whole = (text: string): number => tokenizer.encode(text).length - 2;
    const texts = [
      'Ünïcödé accents, CJK 東京都 and emoji 🙂 mixed: naïve café-au-lait (v2.3.1) — "quoted"!',
      'tabs\tand\r\nline\n\nbreaks,   runs of spaces, a non-breaking\u00a0space and a\u2003em space',
      'control\u0000chars\u200bzero-width\ufeffbom ERR_REQUIRE_ESM --no-preserve-root x86_64 3.14159e-10',
      'a'.repeat(150) + ' supercalifragilisticexpialidocious antidisestablishmentarianism',
      ' leading and trailing white space ',
    ];
    for (const corpus of ['nodejs', 'man-pages']) {
      const dir = join(__dirname, '../../../bench/retrieval/corpora', corpus, 'docs');
      for (const file of readdirSync(dir).slice(0, 4)) texts.push(readFileSync(join(dir, file), 'utf8').slice(0, 20_000));
    }
    for (const text of texts) {
      // Spans short enough not to reach encode's 256-token cut (count does not cut).
      for (let start = 0; start < text.length; start += 200) {
        const span = text.slice(start, start + 250);
        expect(tokenizer.count(span)).toBe(whole(span));
      }
    }
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
