import { splitText } from './text-splitter';

const para = (n: number, words = 40): string =>
  Array.from({ length: words }, (_, i) => `word${n}_${i}`).join(' ') + '.';

describe('splitText', () => {
  it('keeps a short text as one trimmed chunk', () => {
    expect(splitText('  hello world \n', { size: 100, overlap: 10 })).toEqual([
      { index: 0, content: 'hello world', start: 2, end: 13 },
    ]);
  });

  it('returns no chunks for whitespace-only text', () => {
    expect(splitText(' \n\n\t ', { size: 100, overlap: 0 })).toEqual([]);
  });

  it('never exceeds size and never emits an empty chunk', () => {
    const text = Array.from({ length: 30 }, (_, i) => para(i, 5 + (i % 17) * 9)).join('\n\n');
    for (const size of [60, 200, 1000]) {
      const chunks = splitText(text, { size, overlap: Math.floor(size / 5) });
      expect(chunks.length).toBeGreaterThan(1);
      for (const c of chunks) {
        expect(c.content.length).toBeLessThanOrEqual(size);
        expect(c.content.trim()).toBe(c.content);
        expect(c.content.length).toBeGreaterThan(0);
        expect(text.slice(c.start, c.end)).toBe(c.content);
      }
      expect(chunks.map((c) => c.index)).toEqual(chunks.map((_, i) => i));
    }
  });

  it('prefers paragraph boundaries when paragraphs fit', () => {
    const paragraphs = [para(1, 10), para(2, 10), para(3, 10)];
    const text = paragraphs.join('\n\n');
    const chunks = splitText(text, { size: paragraphs[0].length + 5, overlap: 0 });
    expect(chunks.map((c) => c.content)).toEqual(paragraphs);
  });

  it('splits long paragraphs on sentences before words', () => {
    const sentences = ['The first sentence is here.', 'A second one follows it.', 'And then a third closes.'];
    const chunks = splitText(sentences.join(' '), { size: 30, overlap: 0 });
    expect(chunks.map((c) => c.content)).toEqual(sentences);
  });

  it('covers every word of the text, in order', () => {
    const text = Array.from({ length: 12 }, (_, i) => para(i, 30)).join('\n\n');
    const chunks = splitText(text, { size: 150, overlap: 0 });
    expect(chunks.map((c) => c.content).join(' ').split(/\s+/)).toEqual(text.split(/\s+/));
  });

  it('repeats up to `overlap` characters of the previous chunk', () => {
    const text = Array.from({ length: 400 }, (_, i) => `w${i}`).join(' ');
    const chunks = splitText(text, { size: 100, overlap: 30 });
    for (let i = 1; i < chunks.length; i++) {
      const shared = chunks[i - 1].end - chunks[i].start;
      expect(shared).toBeGreaterThan(0);
      expect(shared).toBeLessThanOrEqual(30);
      expect(chunks[i].start).toBeGreaterThan(chunks[i - 1].start);
    }
  });

  it('cuts text without separators at size, never inside a surrogate pair', () => {
    const text = '😀'.repeat(100); // 200 UTF-16 units
    const chunks = splitText(text, { size: 33, overlap: 0 });
    for (const c of chunks) {
      expect(c.content.length).toBeLessThanOrEqual(33);
      expect([...c.content].every((ch) => ch === '😀')).toBe(true);
    }
    expect(chunks.map((c) => c.content).join('')).toBe(text);
  });

  it('handles non-Latin scripts and CJK sentence marks', () => {
    const text = '这是第一句。这是第二句！这是第三句？' + ' Привет мир. Ещё одно предложение.';
    const chunks = splitText(text, { size: 12, overlap: 0 });
    expect(chunks.map((c) => c.content).join('').replace(/\s+/g, '')).toBe(text.replace(/\s+/g, ''));
    expect(chunks[0].content).toBe('这是第一句。这是第二句！');
  });

  it('is deterministic', () => {
    const text = Array.from({ length: 20 }, (_, i) => para(i, 25)).join('\n\n');
    expect(splitText(text, { size: 300, overlap: 50 })).toEqual(splitText(text, { size: 300, overlap: 50 }));
  });

  it('rejects overlap >= size', () => {
    expect(() => splitText('abc', { size: 10, overlap: 10 })).toThrow(RangeError);
  });
});
