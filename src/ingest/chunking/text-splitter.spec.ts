import { CL100K_TOKENIZER, MINILM_TOKENIZER, loadTokenizer } from '../../embedding/tokenizer';
import { tokenMeasure } from './pipeline-splitter';
import { SplitOptions, splitText } from './text-splitter';

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
});

/** A small seeded generator, so the documents below are the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return a / 2 ** 32;
  };
}

const VOCAB = ['index', 'queue', 'worker', 'vector', 'chunk', 'cache', 'batch', 'retry', 'lease', 'shard', 'planner', 'replica'];

function sentence(rand: () => number): string {
  const n = 6 + Math.floor(rand() * 14);
  return Array.from({ length: n }, () => VOCAB[Math.floor(rand() * VOCAB.length)]).join(' ') + '.';
}

function paragraphs(seed: number, count: number, sentences: [number, number]): string[] {
  const rand = rng(seed);
  return Array.from({ length: count }, () =>
    Array.from({ length: sentences[0] + Math.floor(rand() * (sentences[1] - sentences[0])) }, () => sentence(rand)).join(' '),
  );
}

/** Chunks of `after` whose text is not among the chunks of `before`: what would be re-embedded. */
function changedChunks(before: string, after: string, size: number, overlap: number, measure?: SplitOptions['measure']): number {
  const old = new Set(splitText(before, { size, overlap, measure }).map((c) => c.content));
  return splitText(after, { size, overlap, measure }).filter((c) => !old.has(c.content)).length;
}

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

describe('splitText: markdown structure', () => {
  const prose = (seed: number, n: number): string => paragraphs(seed, n, [2, 6]).join('\n\n');

  it('never cuts a fenced code block that fits, even with blank lines and # lines inside', () => {
    const body = Array.from({ length: 6 }, (_, i) => `# step ${i}, not a heading\ndef f${i}(x):\n    return x + ${i}\n`);
    const code = ['```python', ...body, 'print(f1(2))', '```'].join('\n');
    const tilde = ['~~~', 'line one', '', 'line two', '~~~'].join('\n');
    for (let seed = 1; seed <= 20; seed++) {
      const text = [prose(seed, 3), code, prose(seed + 100, 2), tilde, prose(seed + 200, 3)].join('\n\n');
      const chunks = splitText(text, { size: 400, overlap: 60 });
      expect(chunks.some((c) => c.content.includes(code))).toBe(true);
      expect(chunks.some((c) => c.content.includes(tilde))).toBe(true);
      for (const c of chunks) expect(c.content.length).toBeLessThanOrEqual(400);
    }
  });

  it('cuts a code block longer than size only at line ends', () => {
    const lines = Array.from({ length: 80 }, (_, i) => `  let value${i} = compute(${i}) + offset; // step ${i}`);
    const code = ['```js', ...lines, '```'].join('\n');
    const text = `Intro paragraph.\n\n${code}\n\nOutro paragraph.`;
    const chunks = splitText(text, { size: 500, overlap: 0 });
    for (const c of chunks) {
      expect(c.content.length).toBeLessThanOrEqual(500);
      expect(c.end === text.length || text[c.end] === '\n').toBe(true);
      expect(text.slice(text.lastIndexOf('\n', c.start - 1) + 1, c.start).trim()).toBe('');
    }
    expect(chunks.length).toBeGreaterThan(5);
  });

  it('treats an unclosed fence as code to the end of the text', () => {
    const text = `${prose(5, 2)}\n\n\`\`\`\ncode line\n\nmore code\n\n# still code`;
    const chunks = splitText(text, { size: 2000, overlap: 0 });
    expect(chunks[chunks.length - 1].content).toContain('```\ncode line\n\nmore code\n\n# still code');
  });

  it('starts a chunk at each heading, keeps the heading with its section, and repeats nothing across it', () => {
    const sections = Array.from({ length: 12 }, (_, i) => `## Section ${i}\n\n${prose(i + 40, 1 + (i % 4))}`);
    const text = `# Guide\n\n${sections.join('\n\n')}`;
    const chunks = splitText(text, { size: 600, overlap: 100 });
    // "# Guide" alone is too small a section: it opens the first chunk with Section 0.
    expect(chunks[0].content.startsWith('# Guide\n\n## Section 0\n\n')).toBe(true);
    for (let i = 1; i < 12; i++) {
      const at = text.indexOf(`## Section ${i}\n`);
      const opening = chunks.find((c) => c.start === at);
      expect(opening).toBeDefined();
      // The heading's own line is never the end of a chunk.
      expect(opening!.content.length).toBeGreaterThan(`## Section ${i}`.length);
    }
    for (const c of chunks) {
      expect(c.content).not.toMatch(/(^|\n)#+ [^\n]*$/);
      expect(c.content.length).toBeLessThanOrEqual(600);
    }
  });

  it('keeps a tiny section with the next one rather than alone', () => {
    const text = `## A\n\nShort.\n\n## B\n\n${prose(9, 6)}`;
    const chunks = splitText(text, { size: 500, overlap: 50 });
    expect(chunks[0].content.startsWith('## A\n\nShort.\n\n## B')).toBe(true);
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
