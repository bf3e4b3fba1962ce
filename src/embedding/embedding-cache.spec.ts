import { cacheKey, normalizeForCache } from './embedding-cache';

describe('embedding cache keys', () => {
  it('ignores line-ending style, surrounding whitespace and Unicode composition', () => {
    expect(normalizeForCache('  a\r\nb\rc \n')).toBe('a\nb\nc');
    expect(cacheKey('caf\u00e9')).toBe(cacheKey('cafe\u0301'));
    expect(cacheKey(' text\r\n')).toBe(cacheKey('text'));
  });

  it('tells apart texts that differ inside', () => {
    expect(cacheKey('a b')).not.toBe(cacheKey('a  b'));
    expect(cacheKey('Paragraph 1')).not.toBe(cacheKey('paragraph 1'));
    expect(cacheKey('x')).toMatch(/^[0-9a-f]{64}$/);
  });
});
