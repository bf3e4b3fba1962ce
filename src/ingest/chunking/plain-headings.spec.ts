import { chunkContext, headingPathAt } from './chunk-context';
import { draftChunks } from './chunk-drafts';
import { documentHeadings, plainHeadings } from './plain-headings';

const MAN_PAGE = [
  'TAR(1)                    BSD General Commands Manual                   TAR(1)',
  '',
  'NAME',
  '     tar — manipulate tape archives',
  '',
  'DESCRIPTION',
  '     tar creates and manipulates streaming archive files.',
  '     -c      Create a new archive.',
  '',
  'EXIT STATUS',
  '     The tar utility exits 0 on success.',
  '',
  'SEE ALSO',
  '     bzip2(1), gzip(1)',
].join('\n');

const README = [
  'Frobnicator',
  '===========',
  '',
  'Frobnicates files.',
  '',
  'Installation',
  '------------',
  '',
  'Run make.',
  '',
  'From source',
  '~~~~~~~~~~~',
  'Clone it first.',
  '',
  'Usage',
  '-----',
  'frob FILE',
  '',
  'Everything after this line is prose, even a short line.',
  'NOT A HEADING because the line before is not blank',
].join('\n');

describe('plainHeadings', () => {
  it('reads capitalised lines at the margin after a blank line as sections, not indented or mixed-case ones', () => {
    expect(plainHeadings(MAN_PAGE).map((h) => [h.level, h.title])).toEqual([
      [1, 'NAME'],
      [1, 'DESCRIPTION'],
      [1, 'EXIT STATUS'],
      [1, 'SEE ALSO'],
    ]);
    const headings = plainHeadings(MAN_PAGE);
    expect(headingPathAt(headings, MAN_PAGE.indexOf('Create a new archive'))).toEqual(['DESCRIPTION']);
    expect(headingPathAt(headings, MAN_PAGE.indexOf('exits 0'))).toEqual(['EXIT STATUS']);
    expect(headingPathAt(headings, 0)).toEqual([]);
  });

  it('reads underlined lines as headings, nested by their underline character', () => {
    const headings = plainHeadings(README);
    expect(headings.map((h) => [h.level, h.title])).toEqual([
      [1, 'Frobnicator'],
      [2, 'Installation'],
      [3, 'From source'],
      [2, 'Usage'],
    ]);
    expect(headingPathAt(headings, README.indexOf('Clone it'))).toEqual(['Frobnicator', 'Installation', 'From source']);
    expect(headingPathAt(headings, README.indexOf('frob FILE'))).toEqual(['Frobnicator', 'Usage']);
    expect(README.slice(headings[1].offset).startsWith('Installation')).toBe(true);
  });

  it('does not take a long line over a rule, nor a rule alone, for a heading', () => {
    const text = ['', 'This sentence is much longer than the short rule below it, so it is prose.', '---', '', '-----', '', 'text'].join('\n');
    expect(plainHeadings(text)).toEqual([]);
  });
});

describe('documentHeadings', () => {
  it('prefers markdown headings when the text has any', () => {
    const md = ['# Title', '', 'NAME', '', 'text'].join('\n');
    expect(documentHeadings(md).map((h) => h.title)).toEqual(['Title']);
    expect(documentHeadings(MAN_PAGE).map((h) => h.title)).toContain('DESCRIPTION');
  });

  it('gives the chunks of a plain-text manual page their title and section as context', () => {
    const drafts = draftChunks(
      { title: 'bsdtar', metadata: {}, pipeline: { chunkSize: 120, chunkOverlap: 0, contextual: true } },
      MAN_PAGE,
    );
    const exit = drafts.find((d) => d.content.includes('exits 0'))!;
    expect(exit.context).toBe(chunkContext('bsdtar', ['EXIT STATUS']));
    expect(exit.context).toBe('bsdtar > EXIT STATUS');
    expect(exit.metadata).toEqual({ headingPath: ['EXIT STATUS'] });
    expect(exit.textToEmbed.startsWith('bsdtar > EXIT STATUS: ')).toBe(true);
  });
});
