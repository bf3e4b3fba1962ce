import { chunkContext, chunkMetadata, headingPathAt, markdownHeadings, textToEmbed } from './chunk-context';

const DOC = [
  '# Child process', // 0
  '',
  'Intro text.',
  '## Asynchronous process creation',
  'Spawning text.',
  '### `child_process.exec(command[, options][, callback])`',
  'Exec text.',
  '```bash',
  '# not a heading: a shell comment',
  '```',
  'After the code block.',
  '## Synchronous process creation',
  'Sync text.',
].join('\n');

describe('markdownHeadings / headingPathAt', () => {
  const headings = markdownHeadings(DOC);
  const at = (needle: string): string[] => headingPathAt(headings, DOC.indexOf(needle));

  it('finds ATX headings in order, cleaned, and ignores lines inside fenced code', () => {
    expect(headings.map((h) => [h.level, h.title])).toEqual([
      [1, 'Child process'],
      [2, 'Asynchronous process creation'],
      [3, 'child_process.exec(command[, options][, callback])'],
      [2, 'Synchronous process creation'],
    ]);
    expect(headings[0].offset).toBe(0);
    expect(DOC.slice(headings[1].offset).startsWith('## Asynchronous')).toBe(true);
  });

  it('gives the path of headings in effect at an offset, closing sections at the same or a higher level', () => {
    expect(at('Intro text')).toEqual(['Child process']);
    expect(at('Exec text')).toEqual(['Child process', 'Asynchronous process creation', 'child_process.exec(command[, options][, callback])']);
    expect(at('After the code block')).toEqual(at('Exec text'));
    expect(at('Sync text')).toEqual(['Child process', 'Synchronous process creation']);
    expect(headingPathAt(headings, DOC.indexOf('## Synchronous'))).toEqual(['Child process', 'Synchronous process creation']);
  });

  it('returns an empty path before the first heading and for text without headings', () => {
    expect(headingPathAt(markdownHeadings('intro\n# Later'), 0)).toEqual([]);
    expect(headingPathAt(markdownHeadings('plain text, no # heading here\n#hashtag is not one either'), 5)).toEqual([]);
  });

  it('skips levels: a level-3 heading under a level-1 heading has that as its parent', () => {
    const h = markdownHeadings('# A\n### C\ntext\n## B\ntext');
    expect(headingPathAt(h, 9)).toEqual(['A', 'C']);
    expect(headingPathAt(h, 20)).toEqual(['A', 'B']);
  });

  it('handles a 10 MB document with many headings quickly', () => {
    const section = '## Section\n' + 'word '.repeat(200) + '\n';
    const big = '# Big\n' + section.repeat(Math.ceil(10_000_000 / section.length));
    const t0 = Date.now();
    const h = markdownHeadings(big);
    for (let off = 0; off < big.length; off += 800) headingPathAt(h, off);
    expect(h.length).toBeGreaterThan(9000);
    expect(headingPathAt(h, big.length - 1)).toEqual(['Big', 'Section']);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});

describe('chunkContext / textToEmbed', () => {
  it('joins title and heading path, leaving out a first heading that repeats the title', () => {
    expect(chunkContext('Child process', ['Child process', 'Asynchronous process creation'])).toBe(
      'Child process > Asynchronous process creation',
    );
    expect(chunkContext('Guide', ['Install'])).toBe('Guide > Install');
  });

  it('is null with neither title nor headings, and works with only one of them', () => {
    expect(chunkContext(null, [])).toBeNull();
    expect(chunkContext('   ', [])).toBeNull();
    expect(chunkContext(null, ['Usage', 'Flags'])).toBe('Usage > Flags');
    expect(chunkContext('Title', [])).toBe('Title');
  });

  it('keeps the context short: long parts are cut, middle headings dropped', () => {
    const ctx = chunkContext('T', ['a'.repeat(500), 'b'.repeat(100), 'c'.repeat(100), 'last'])!;
    expect(ctx.length).toBeLessThanOrEqual(300);
    expect(ctx.startsWith('T > ')).toBe(true);
    expect(ctx.endsWith(' > last')).toBe(true);
  });

  it('prefixes the chunk text with its context for embedding, and leaves it alone without one', () => {
    expect(textToEmbed('Guide > Install', 'Run the installer.')).toBe('Guide > Install: Run the installer.');
    expect(textToEmbed(null, 'Run the installer.')).toBe('Run the installer.');
  });
});

describe('chunkMetadata', () => {
  it("adds the heading path to the document's metadata", () => {
    expect(chunkMetadata({ team: 'docs' }, ['Install', 'Linux'])).toEqual({ team: 'docs', headingPath: ['Install', 'Linux'] });
  });

  it('leaves metadata alone for a chunk under no heading, and never overwrites a key of the document', () => {
    const meta = { team: 'docs' };
    expect(chunkMetadata(meta, [])).toBe(meta);
    expect(chunkMetadata({ headingPath: 'mine' }, ['Install'])).toEqual({ headingPath: 'mine' });
  });
});

describe('what one heading can cost', () => {
  it('keeps a megabyte-long heading to 120 characters in the heading path and the context', () => {
    const huge = 'word '.repeat(200000);
    const text = `# ${huge}\n\nbody`;
    const headings = markdownHeadings(text);
    expect(headings).toHaveLength(1);
    expect(headings[0].title.length).toBeLessThanOrEqual(120);
    const path = headingPathAt(headings, text.indexOf('body'));
    expect(JSON.stringify(chunkMetadata({}, path)).length).toBeLessThan(200);
    expect((chunkContext('T', path) ?? '').length).toBeLessThanOrEqual(300);
  });

  it('never cuts a heading inside a surrogate pair', () => {
    const title = `${'a'.repeat(119)}😀 and more`;
    const [h] = markdownHeadings(`# ${title}\n`);
    expect(h.title).toBe('a'.repeat(119));
    expect(chunkContext(null, [`${'b'.repeat(119)}😀`])).toBe('b'.repeat(119));
  });
});
