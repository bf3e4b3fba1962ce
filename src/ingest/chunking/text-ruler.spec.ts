import { CL100K_TOKENIZER, MINILM_TOKENIZER, loadTokenizer } from '../../embedding/tokenizer';
import { tokenMeasure } from './pipeline-splitter';
import { changedChunks, paragraphs } from './split-text.fixture';
import { splitText } from './text-splitter';

describe('splitText: sizes in tokens', () => {
  const tokenizers = [MINILM_TOKENIZER.id, CL100K_TOKENIZER.id].map((id) => loadTokenizer(id));
  const prose = (seed: number, n: number, sentences: [number, number] = [2, 6]): string => paragraphs(seed, n, sentences).join('\n\n');
  const code = [
    '```ts',
    ...Array.from({ length: 40 }, (_, i) => `    const value${i} = await queue.add('job-${i}', { id: ${i}, attempts: 3 });`),
    '```',
  ].join('\n');
  const mixed = [
    `# Guide\n\n${prose(1, 4)}`,
    `## Code\n\n${code}`,
    `## 中文\n\n${'这是第一句。这是第二句！这是第三句？'.repeat(20)}`,
    `## Emoji and long words\n\n${'😀'.repeat(300)} ${'Supercalifragilistic'.repeat(30)} ${prose(2, 3)}`,
    `## Paths\n\n${Array.from({ length: 80 }, (_, i) => `/usr/lib/node_modules/pkg${i}/dist/index.js`).join(' ')}`,
    `## Long paragraph\n\n${prose(3, 1, [60, 61])}`,
  ].join('\n\n');

  it.each(tokenizers.map((t) => [t.id, t] as const))('never exceeds size in %s tokens, and covers the text', (_id, tokenizer) => {
    const measure = tokenMeasure(tokenizer);
    for (const [size, overlap] of [[200, 30], [64, 10], [256, 0]]) {
      const chunks = splitText(mixed, { size, overlap, measure });
      expect(chunks.length).toBeGreaterThan(3);
      for (const c of chunks) {
        expect(tokenizer.count(c.content)).toBeLessThanOrEqual(size);
        expect(c.content.length).toBeGreaterThan(0);
        expect(mixed.slice(c.start, c.end)).toBe(c.content);
      }
      // Every character outside white space is in some chunk.
      const covered = new Uint8Array(mixed.length);
      for (const c of chunks) covered.fill(1, c.start, c.end);
      let missed = 0;
      for (let i = 0; i < mixed.length; i++) if (!/\s/.test(mixed[i]) && covered[i] === 0) missed++;
      expect(missed).toBe(0);
    }
  });

  it.each(tokenizers.map((t) => [t.id, t] as const))('repeats at most `overlap` %s tokens of the previous chunk', (_id, tokenizer) => {
    const text = prose(4, 30, [3, 8]);
    const chunks = splitText(text, { size: 120, overlap: 20, measure: tokenMeasure(tokenizer) });
    let overlapping = 0;
    for (let i = 1; i < chunks.length; i++) {
      expect(chunks[i].start).toBeGreaterThan(chunks[i - 1].start);
      if (chunks[i].start >= chunks[i - 1].end) continue;
      overlapping++;
      expect(tokenizer.count(text.slice(chunks[i].start, chunks[i - 1].end).trim())).toBeLessThanOrEqual(20);
    }
    expect(overlapping).toBeGreaterThan(chunks.length / 2);
  });

  it('fills chunks by tokens, not characters', () => {
    const minilm = tokenizers[0];
    const chunks = splitText(prose(5, 40), { size: 200, overlap: 30, measure: tokenMeasure(minilm) });
    const full = chunks.filter((c) => minilm.count(c.content) > 100);
    expect(full.length).toBeGreaterThan(chunks.length / 2);
    expect(Math.max(...chunks.map((c) => c.content.length))).toBeGreaterThan(200);
  });

  it('keeps a code block whole when its tokens fit, and cuts a longer one only at line ends', () => {
    const minilm = tokenizers[0];
    const small = ['```python', 'def f(x):', '    return x + 1', '', 'print(f(2))', '```'].join('\n');
    const text = `${prose(6, 3)}\n\n${small}\n\n${prose(7, 2)}\n\n${code}\n\nOutro paragraph.`;
    const measure = tokenMeasure(minilm);
    const chunks = splitText(text, { size: 100, overlap: 15, measure });
    expect(chunks.some((c) => c.content.includes(small))).toBe(true);
    const codeStart = text.indexOf(code);
    const inCode = chunks.filter((c) => c.start > codeStart && c.end < codeStart + code.length);
    expect(inCode.length).toBeGreaterThan(2);
    for (const c of inCode) {
      expect(text[c.end]).toBe('\n');
      expect(minilm.count(c.content)).toBeLessThanOrEqual(100);
    }
  });

  it('starts a chunk at each heading and keeps the heading with its section', () => {
    const sections = Array.from({ length: 10 }, (_, i) => `## Section ${i}\n\n${prose(i + 50, 1 + (i % 4))}`);
    const text = `# Guide\n\n${sections.join('\n\n')}`;
    const chunks = splitText(text, { size: 150, overlap: 20, measure: tokenMeasure(tokenizers[1]) });
    for (let i = 1; i < 10; i++) expect(chunks.some((c) => c.start === text.indexOf(`## Section ${i}\n`))).toBe(true);
    for (const c of chunks) expect(c.content).not.toMatch(/(^|\n)#+ [^\n]*$/);
  });

  it('measures each part of the text a bounded number of times (no re-measuring the rest per cut)', () => {
    const text = prose(8, 400, [1, 12]);
    let measured = 0;
    const count = tokenMeasure(tokenizers[0]);
    splitText(text, { size: 200, overlap: 30, measure: (t) => ((measured += t.length), count(t)) });
    expect(measured).toBeLessThan(text.length * 5);
  });

  it('is deterministic', () => {
    const measure = tokenMeasure(tokenizers[1]);
    expect(splitText(mixed, { size: 120, overlap: 20, measure })).toEqual(splitText(mixed, { size: 120, overlap: 20, measure }));
  });

  describe.each(tokenizers.map((t) => [t.id, t] as const))('edit-stable boundaries in %s tokens', (_id, tokenizer) => {
    const measure = tokenMeasure(tokenizer);

    it('a paragraph edited re-chunks at most 3 chunks of a 100-chunk document', () => {
      const paras = paragraphs(7, 160, [2, 9]);
      const text = paras.join('\n\n');
      expect(splitText(text, { size: 200, overlap: 30, measure }).length).toBeGreaterThanOrEqual(100);
      for (const at of [5, 80, 150]) {
        for (const edit of [(p: string) => p.replace(/ \w+ \w+ /, ' edited words '), (p: string) => `${p} ${p.slice(0, 300)}`]) {
          const edited = paras.map((p, i) => (i === at ? edit(p) : p)).join('\n\n');
          expect(changedChunks(text, edited, 200, 30, measure)).toBeLessThanOrEqual(3);
        }
      }
    });

    it('stays local in long paragraphs cut at sentences', () => {
      const paras = paragraphs(11, 40, [15, 30]);
      const text = paras.join('\n');
      for (const at of [3, 20, 35]) {
        const edited = paras.map((p, i) => (i === at ? p.replace(/ \w+ /, ' changed ') : p)).join('\n');
        expect(changedChunks(text, edited, 200, 30, measure)).toBeLessThanOrEqual(3);
      }
    });
  });
});
