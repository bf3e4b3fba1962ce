import { MarkdownHeading, markdownHeadings } from './chunk-context';

/** Longest line read as a section name: headings are short, prose lines are not. */
const MAX_HEADING_LINE = 80;

/**
 * A section name in capitals alone on its line at the margin, as manual pages and many
 * READMEs write them (`NAME`, `DESCRIPTION`, `EXIT STATUS`, `SEE ALSO`): no lower-case
 * letter, at least one word of two or more capitals.
 */
const CAPITALS = /^[A-Z][A-Z0-9 &/(),:'-]*$/;
const CAPITAL_WORD = /[A-Z]{2,}/;
/** An underline of at least three `=`, `-`, `~`, `^` or `*` (setext headings, reStructuredText). */
const UNDERLINE = /^ {0,3}([=\-~^*])\1{2,}[ \t]*$/;
const UNDERLINE_LEVELS: Record<string, number> = { '=': 1, '-': 2, '~': 3, '^': 3, '*': 3 };

interface Line {
  start: number;
  text: string;
}

function lines(text: string): Line[] {
  const out: Line[] = [];
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    out.push({ start, text: text.slice(start, end).replace(/\r$/, '') });
    start = end + 1;
  }
  return out;
}

const blank = (l: Line | undefined): boolean => l === undefined || l.text.trim() === '';

/**
 * Section headings of a text that has no markdown `#` headings: a line in capitals at the
 * margin with a blank line before it (level 1), and a short line underlined by a row of
 * `=` (level 1), `-` (level 2) or `~ ^ *` (level 3) at least half its length. The result has
 * the shape of `markdownHeadings`, so `headingPathAt` reads it the same way.
 */
export function plainHeadings(text: string): MarkdownHeading[] {
  const found: Array<{ offset: number; level: number; title: string }> = [];
  const all = lines(text);
  for (let i = 0; i < all.length; i++) {
    const line = all[i];
    const title = line.text.trim();
    if (title === '' || title.length > MAX_HEADING_LINE) continue;
    const under = all[i + 1] !== undefined ? UNDERLINE.exec(all[i + 1].text) : null;
    if (under && !UNDERLINE.test(line.text) && all[i + 1].text.trim().length * 2 >= title.length && blank(all[i - 1])) {
      found.push({ offset: line.start, level: UNDERLINE_LEVELS[under[1]], title });
      i++;
    } else if (line.text[0] !== ' ' && line.text[0] !== '\t' && CAPITALS.test(title) && CAPITAL_WORD.test(title) && blank(all[i - 1])) {
      found.push({ offset: line.start, level: 1, title });
    }
  }
  return withParents(found);
}

function withParents(found: Array<{ offset: number; level: number; title: string }>): MarkdownHeading[] {
  const open: number[] = [];
  return found.map((h, index) => {
    open.length = Math.min(open.length, h.level - 1);
    let parent = -1;
    for (let l = h.level - 2; l >= 0 && parent < 0; l--) parent = open[l] ?? -1;
    open[h.level - 1] = index;
    return { ...h, parent };
  });
}

/**
 * The headings chunks are placed under: the markdown `#` headings when the text has any
 * (HTML and DOCX arrive as such markdown), else the sections `plainHeadings` recognises.
 */
export function documentHeadings(text: string): MarkdownHeading[] {
  const markdown = markdownHeadings(text);
  return markdown.length > 0 ? markdown : plainHeadings(text);
}
