/** A file's text, as markdown where the format has structure (headings), and its pages where it has them. */
export interface ExtractedText {
  text: string;
  /** For paged formats (PDF): the offset in `text` where each page starts; page n starts at pageStarts[n - 1]. */
  pageStarts?: number[];
}

/** Why a file's text could not be had; `unreadable` files are encrypted, corrupt or not what they claim. */
export type ExtractionRefusal = { kind: 'unreadable'; message: string };

/** What the extraction thread answers. */
export type ExtractionReply = { ok: true; extracted: ExtractedText } | ({ ok: false } & ExtractionRefusal);

/** What the extraction thread says once its parsers are loaded, before it is sent a file. */
export const THREAD_READY = 'ready';

/** What the extraction thread is sent: the bytes are transferred, not copied. */
export interface ExtractionRequest {
  mimeType: string;
  data: Uint8Array;
}

/** The chunk metadata key that names a chunk's pages. */
export const PAGES_KEY = 'pages';

/** The page numbers (1-based) that the text between `start` and `end` overlaps. */
export function pagesBetween(pageStarts: readonly number[], start: number, end: number): number[] {
  const pages: number[] = [];
  for (let i = 0; i < pageStarts.length; i++) {
    const pageEnd = i + 1 < pageStarts.length ? pageStarts[i + 1] : Infinity;
    if (pageStarts[i] < Math.max(end, start + 1) && pageEnd > start) pages.push(i + 1);
  }
  return pages;
}
