import { changedChunks, paragraphs } from './split-text.fixture';
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
    // Each chunk of the CJK part is whole sentences: it ends at a sentence mark.
    const cjk = chunks.filter((c) => c.end <= text.indexOf(' '));
    expect(cjk.length).toBeGreaterThan(0);
    for (const c of cjk) expect(c.content).toMatch(/[。！？]$/);
  });

  it('is deterministic', () => {
    const text = Array.from({ length: 20 }, (_, i) => para(i, 25)).join('\n\n');
    expect(splitText(text, { size: 300, overlap: 50 })).toEqual(splitText(text, { size: 300, overlap: 50 }));
  });

  it('rejects overlap >= size', () => {
    expect(() => splitText('abc', { size: 10, overlap: 10 })).toThrow(RangeError);
  });

  it('splits 10 MB of text in linear time', () => {
    const block = paragraphs(1, 200, [1, 12]).join('\n\n');
    const small = block.repeat(Math.ceil(1_000_000 / block.length));
    const big = block.repeat(Math.ceil(10_000_000 / block.length));
    const time = (t: string): number => {
      const s = process.hrtime.bigint();
      splitText(t, { size: 1000, overlap: 150 });
      return Number(process.hrtime.bigint() - s) / 1e6;
    };
    time(small);
    const ratio = time(big) / time(small);
    // 10x the text in well under 30x the time (quadratic would be 100x).
    expect(ratio).toBeLessThan(30);
  });
});


describe('splitText: edit-stable boundaries', () => {
  const edits: Array<[string, (p: string) => string]> = [
    ['words replaced', (p) => p.replace(/ \w+ \w+ /, ' edited words ')],
    ['grown', (p) => `${p} ${p.slice(0, 300)}`],
    ['shrunk', (p) => p.slice(0, Math.floor(p.length / 3)) + '.'],
  ];

  it.each(edits)('a paragraph %s re-chunks at most 3 chunks of a 100-chunk document', (_name, edit) => {
    const paras = paragraphs(7, 160, [2, 9]);
    const text = paras.join('\n\n');
    expect(splitText(text, { size: 1000, overlap: 150 }).length).toBeGreaterThanOrEqual(100);
    for (const at of [5, 80, 150]) {
      const edited = paras.map((p, i) => (i === at ? edit(p) : p)).join('\n\n');
      expect(changedChunks(text, edited, 1000, 150)).toBeLessThanOrEqual(3);
    }
  });

  it.each([
    ['with', '\n\n'],
    ['without', '\n'],
  ])('stays local in long paragraphs (cut at sentences) %s blank lines between them', (_name, joiner) => {
    const paras = paragraphs(11, 40, [15, 30]);
    const text = paras.join(joiner);
    for (const at of [3, 20, 35]) {
      const edited = paras.map((p, i) => (i === at ? p.replace(/ \w+ /, ' changed ') : p)).join(joiner);
      expect(changedChunks(text, edited, 1000, 150)).toBeLessThanOrEqual(3);
    }
  });

  it('keeps the chunks before an edit identical, offsets included', () => {
    const paras = paragraphs(3, 60, [2, 9]);
    const text = paras.join('\n\n');
    const edited = paras.map((p, i) => (i === 40 ? `${p} One more sentence here.` : p)).join('\n\n');
    const editAt = text.indexOf(paras[40]);
    const before = splitText(text, { size: 800, overlap: 100 }).filter((c) => c.end < editAt - 800);
    expect(before.length).toBeGreaterThan(5);
    expect(splitText(edited, { size: 800, overlap: 100 }).slice(0, before.length)).toEqual(before);
  });
});
