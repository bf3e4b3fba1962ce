/** The file types a multipart `POST /v1/documents` accepts, by their media type. */
export const SUPPORTED_FILE_TYPES = [
  'text/plain',
  'text/markdown',
  'text/html',
  'application/json',
  'application/pdf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
] as const;
export type SupportedFileType = (typeof SUPPORTED_FILE_TYPES)[number];

export const PDF: SupportedFileType = 'application/pdf';
export const DOCX: SupportedFileType = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

/** Bytes of a file's start that detection looks at. */
export const SNIFF_BYTES = 4096;

/** What is known of an upload before its bytes are stored. */
export interface UploadClues {
  /** The first bytes of the file (up to SNIFF_BYTES; fewer only if the file is shorter). */
  head: Uint8Array;
  /** The client's file name. */
  filename: string;
  /** The client's Content-Type for the part, which is only a hint. */
  declared: string;
}

export type Detection = { type: SupportedFileType } | { unsupported: string };

const BY_EXTENSION: Record<string, SupportedFileType> = {
  txt: 'text/plain',
  text: 'text/plain',
  md: 'text/markdown',
  markdown: 'text/markdown',
  html: 'text/html',
  htm: 'text/html',
  xhtml: 'text/html',
  json: 'application/json',
  pdf: PDF,
  docx: DOCX,
};

// Formats often sent by mistake, named so the 415 says what was received.
const OTHER_MAGIC: Array<[string, number[]]> = [
  ['a PNG image', [0x89, 0x50, 0x4e, 0x47]],
  ['a JPEG image', [0xff, 0xd8, 0xff]],
  ['a GIF image', [0x47, 0x49, 0x46, 0x38]],
  ['a gzip archive', [0x1f, 0x8b]],
  ['a legacy Office (OLE) file such as .doc', [0xd0, 0xcf, 0x11, 0xe0]],
  ['an RTF document', [0x7b, 0x5c, 0x72, 0x74, 0x66]],
];

/**
 * The type of an upload, decided by its content first: PDF and ZIP magic bytes, binary
 * content, then the name's extension and the declared type to tell the text formats apart
 * (they have no magic bytes). A name or header that claims PDF or DOCX for content that is
 * not one is refused, as is a ZIP that is not named or declared as DOCX.
 */
export function detectFileType(clues: UploadClues): Detection {
  const { head } = clues;
  const byName = BY_EXTENSION[extensionOf(clues.filename)];
  const declared = normaliseDeclared(clues.declared);
  const claimed = byName ?? declared;
  if (startsWith(head, [0x25, 0x50, 0x44, 0x46, 0x2d])) return { type: PDF };
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04])) {
    return claimed === DOCX ? { type: DOCX } : { unsupported: 'a ZIP archive that is not a DOCX document (name it .docx if it is one)' };
  }
  const other = OTHER_MAGIC.find(([, magic]) => startsWith(head, magic));
  if (other) return { unsupported: other[0] };
  if (claimed === PDF) return { unsupported: 'a file named or declared as PDF that does not start with %PDF-' };
  if (claimed === DOCX) return { unsupported: 'a file named or declared as DOCX that is not a ZIP archive' };
  if (!looksLikeText(head)) return { unsupported: 'binary content that is not a PDF or DOCX document' };
  if (claimed !== undefined) return { type: claimed };
  return { type: sniffText(head) };
}

function extensionOf(filename: string): string {
  const dot = filename.lastIndexOf('.');
  return dot < 0 ? '' : filename.slice(dot + 1).toLowerCase();
}

function normaliseDeclared(declared: string): SupportedFileType | undefined {
  const bare = declared.split(';')[0].trim().toLowerCase();
  if (bare === 'text/x-markdown') return 'text/markdown';
  return (SUPPORTED_FILE_TYPES as readonly string[]).includes(bare) ? (bare as SupportedFileType) : undefined;
}

function startsWith(head: Uint8Array, magic: number[]): boolean {
  return magic.every((byte, i) => head[i] === byte);
}

/** UTF-8 without NUL bytes; a multi-byte character cut at the end of the sniffed bytes is allowed. */
function looksLikeText(head: Uint8Array): boolean {
  if (head.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, trimToCharBoundary(head)));
    return true;
  } catch {
    return false;
  }
}

/** Length of `head` without a trailing, incomplete UTF-8 sequence. */
function trimToCharBoundary(head: Uint8Array): number {
  let end = head.length;
  for (let back = 1; back <= 3 && end - back >= 0; back++) {
    const byte = head[end - back];
    if ((byte & 0xc0) !== 0x80) {
      const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
      return needed > back ? end - back : end;
    }
  }
  return end;
}

/** Text with no name or header to go by: HTML and JSON announce themselves; the rest is plain text. */
function sniffText(head: Uint8Array): SupportedFileType {
  const start = new TextDecoder().decode(head.subarray(0, 512)).replace(/^\uFEFF/, '').trimStart().toLowerCase();
  if (start.startsWith('<!doctype html') || start.startsWith('<html')) return 'text/html';
  if (start.startsWith('{') || start.startsWith('[')) return 'application/json';
  return 'text/plain';
}
