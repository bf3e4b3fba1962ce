/** A markdown ATX heading (`#` … `######`) found in a document. */
export interface MarkdownHeading {
  /** Offset of the heading line's first character in the document (UTF-16 units). */
  offset: number;
  /** 1 for `#`, 6 for `######`. */
  level: number;
  /** Heading text without the hashes and inline code marks. */
  title: string;
  /** Index (in the returned array) of the nearest earlier heading of a lower level, or -1. */
  parent: number;
}

/** Longest piece of a context (title or heading) kept, in characters. */
const MAX_PART_LENGTH = 120;
/** Longest context kept; headings nearest the title are dropped first to fit. */
const MAX_CONTEXT_LENGTH = 300;

/**
 * Characters of a heading line read. Titles are kept to MAX_PART_LENGTH, so every chunk's
 * heading path (repeated in its metadata) stays small whatever the document holds.
 */
const MAX_HEADING_READ = 4 * MAX_PART_LENGTH;

const ATX_HEADING = /^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/**
 * The ATX headings of a markdown text, in document order, skipping lines inside fenced
 * code blocks (where `# comment` is not a heading). One pass over the text, so it is
 * computed once per document and then queried with `headingPathAt` for every chunk.
 */
export function markdownHeadings(text: string): MarkdownHeading[] {
  const headings: MarkdownHeading[] = [];
  // Open heading index per level (1-6) while walking the document.
  const open: number[] = [];
  let fence: string | null = null;
  let lineStart = 0;
  while (lineStart <= text.length) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd < 0) lineEnd = text.length;
    // Only lines that can be a fence or a heading are worth a regular expression.
    const first = firstNonSpace(text, lineStart, lineEnd);
    if (first === '`' || first === '~') {
      const m = FENCE.exec(text.slice(lineStart, Math.min(lineEnd, lineStart + 64)));
      if (m) {
        const marker = m[1];
        if (fence === null) fence = marker;
        else if (marker[0] === fence[0] && marker.length >= fence.length) fence = null;
      }
    } else if (first === '#' && fence === null) {
      // Only the start of a heading line is read: a megabyte-long heading costs what a short one does.
      const m = ATX_HEADING.exec(text.slice(lineStart, Math.min(lineEnd, lineStart + MAX_HEADING_READ)).replace(/\r$/, ''));
      const title = m ? cutText(cleanHeading(m[2]), MAX_PART_LENGTH).trim() : '';
      if (m && title !== '') {
        const level = m[1].length;
        open.length = Math.min(open.length, level - 1);
        let parent = -1;
        for (let l = level - 2; l >= 0 && parent < 0; l--) parent = open[l] ?? -1;
        headings.push({ offset: lineStart, level, title, parent });
        open[level - 1] = headings.length - 1;
      }
    }
    lineStart = lineEnd + 1;
  }
  return headings;
}

/**
 * The heading path in effect at `offset`: the titles of the last heading at or before
 * it and of its ancestors, outermost first; empty before the first heading. O(log n).
 */
export function headingPathAt(headings: readonly MarkdownHeading[], offset: number): string[] {
  let lo = 0;
  let hi = headings.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (headings[mid].offset <= offset) lo = mid + 1;
    else hi = mid;
  }
  const path: string[] = [];
  for (let i = lo - 1; i >= 0; i = headings[i].parent) path.unshift(headings[i].title);
  return path;
}

/**
 * A chunk's context: `"<title> > <heading> > <subheading>"`, or null when there is
 * neither a title nor a heading. A first heading that repeats the title is left out;
 * each part is cut to 120 characters and the whole to about 300, dropping the headings
 * nearest the title first, so the context never crowds out the chunk's own text.
 */
export function chunkContext(title: string | null, headingPath: readonly string[]): string | null {
  const parts: string[] = [];
  const add = (raw: string | null): void => {
    const part = cutText((raw ?? '').replace(/\s+/g, ' ').trim(), MAX_PART_LENGTH).trim();
    if (part !== '' && part.toLowerCase() !== parts[parts.length - 1]?.toLowerCase()) parts.push(part);
  };
  add(title);
  const hasTitle = parts.length > 0;
  for (const heading of headingPath) add(heading);
  if (parts.length === 0) return null;
  const firstHeading = hasTitle ? 1 : 0;
  while (parts.length > firstHeading + 1 && parts.join(' > ').length > MAX_CONTEXT_LENGTH) parts.splice(firstHeading, 1);
  return parts.join(' > ');
}

/** Chunk metadata key of the heading path (outermost first), present when the chunk is under a heading. */
export const HEADING_PATH_KEY = 'headingPath';

/**
 * A chunk's metadata: the document's, plus the markdown heading path the chunk sits
 * under. A document's own `headingPath` key wins, so user metadata is never overwritten.
 */
export function chunkMetadata(documentMetadata: Record<string, unknown>, headingPath: readonly string[]): Record<string, unknown> {
  if (headingPath.length === 0 || HEADING_PATH_KEY in documentMetadata) return documentMetadata;
  return { ...documentMetadata, [HEADING_PATH_KEY]: [...headingPath] };
}

/** The text given to the embedding model for a chunk: `"<context>: <content>"`, or the content alone. */
export function textToEmbed(context: string | null, content: string): string {
  return context ? `${context}: ${content}` : content;
}

/** The first `max` UTF-16 units of `s`, never ending inside a surrogate pair (jsonb refuses a lone half). */
function cutText(s: string, max: number): string {
  const cut = s.slice(0, max);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}

function firstNonSpace(text: string, from: number, to: number): string {
  for (let i = from; i < to && i < from + 4; i++) {
    const ch = text[i];
    if (ch !== ' ') return ch;
  }
  return '';
}

/** Drops inline-code backticks and emphasis marks and turns links into their text. */
function cleanHeading(raw: string): string {
  return raw
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[`*]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}
