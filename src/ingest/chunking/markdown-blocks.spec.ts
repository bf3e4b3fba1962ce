import { markdownBlocks } from './markdown-blocks';
import { paragraphs } from './split-text.fixture';
import { BLOCK, GLUE, HEADING } from './text-span';
import { splitText } from './text-splitter';

describe('markdownBlocks', () => {
  it('opens a block at each heading, paragraph and fence, covering the text exactly', () => {
    const text = 'Intro\nstill intro\n\n# Title\nBody.\n\n```\ncode\n\n# not a heading\n```\nAfter.\n\n   \nLast.';
    const blocks = markdownBlocks(text);
    expect(blocks.map((b) => [text.slice(b.start, b.end), b.level, b.code])).toEqual([
      ['Intro\nstill intro\n\n', BLOCK, false],
      ['# Title\n', HEADING, false],
      ['Body.\n\n', GLUE, false],
      ['```\ncode\n\n# not a heading\n```\n', BLOCK, true],
      ['After.\n\n   \n', BLOCK, false],
      ['Last.', BLOCK, false],
    ]);
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
});
