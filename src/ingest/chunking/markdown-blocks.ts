import { BLOCK, Block, GLUE, HEADING } from './text-span';

const ATX_HEADING = /^ {0,3}#{1,6}[ \t]+\S/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/**
 * Cuts the text into markdown blocks covering it exactly: a block starts at each ATX
 * heading, at each fenced code block (which runs to its closing fence, or to the end),
 * and at the first line of text after a blank line, a heading or a code block. A block
 * right after a heading starts at a GLUE boundary, so it stays with its heading.
 */
export function markdownBlocks(text: string): Block[] {
  const blocks: Block[] = [];
  let fence: string | null = null;
  let afterBreak = true;
  let afterHeading = false;
  const open = (at: number, level: number, code: boolean): void => {
    if (blocks.length === 0) at = 0;
    else blocks[blocks.length - 1].end = at;
    blocks.push({ start: at, end: text.length, level, code });
  };
  for (let lineStart = 0; lineStart < text.length; ) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd < 0) lineEnd = text.length;
    const first = firstNonSpace(text, lineStart, lineEnd);
    const head = (): string => text.slice(lineStart, Math.min(lineEnd, lineStart + 64));
    if (fence !== null) {
      const m = first === fence[0] ? FENCE.exec(head()) : null;
      if (m && m[1].length >= fence.length) {
        fence = null;
        afterBreak = true;
      }
    } else if ((first === '`' || first === '~') && FENCE.test(head())) {
      fence = FENCE.exec(head())![1];
      open(lineStart, afterHeading ? GLUE : BLOCK, true);
      afterHeading = false;
    } else if (first === '#' && ATX_HEADING.test(head())) {
      open(lineStart, HEADING, false);
      afterHeading = true;
      afterBreak = true;
    } else if ((first === '' || /\s/.test(first)) && isBlank(text, lineStart, lineEnd)) {
      afterBreak = true;
    } else {
      if (afterBreak) open(lineStart, afterHeading ? GLUE : BLOCK, false);
      afterHeading = false;
      afterBreak = false;
    }
    lineStart = lineEnd + 1;
  }
  return blocks;
}

/** The first character of a line within markdown's 3-space indent, or '' if there is none. */
function firstNonSpace(text: string, from: number, to: number): string {
  for (let i = from; i < to && i < from + 4; i++) {
    if (text[i] !== ' ') return text[i];
  }
  return '';
}

function isBlank(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!/\s/.test(text[i])) return false;
  return true;
}
