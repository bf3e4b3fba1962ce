import { estimateTokens } from '../token-estimate';
import { batchTexts } from './text-batches';

describe('batchTexts', () => {
  const text = (tokens: number) => 'abcd'.repeat(tokens);

  it('caps the number of texts per batch', () => {
    const batches = batchTexts(Array.from({ length: 7 }, () => text(1)), 3, 1000);
    expect(batches.map((b) => b.texts.length)).toEqual([3, 3, 1]);
  });

  it('caps the estimated tokens per batch, keeping order', () => {
    const texts = [text(30), text(30), text(10), text(50), text(1)];
    const batches = batchTexts(texts, 100, 60);
    expect(batches.map((b) => b.tokens)).toEqual([60, 60, 1]);
    expect(batches.flatMap((b) => b.texts)).toEqual(texts);
  });

  it('sends a text larger than the token cap on its own', () => {
    const batches = batchTexts([text(1), text(500), text(1)], 100, 60);
    expect(batches.map((b) => b.texts.length)).toEqual([1, 1, 1]);
    expect(batches[1].tokens).toBe(500);
  });

  it('makes no batch of nothing', () => {
    expect(batchTexts([], 10, 10)).toEqual([]);
  });
});

describe('estimateTokens', () => {
  it('is about a quarter of the UTF-8 bytes, so non-Latin text is not undercounted', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('abcdefgh')).toBe(2);
    expect(estimateTokens('abcdefghi')).toBe(3);
    // 8 CJK characters: 24 bytes, 6 tokens (chars/4 would say 2).
    expect(estimateTokens('埋め込みのテスト')).toBe(6);
  });
});
