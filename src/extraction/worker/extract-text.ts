import mammoth from 'mammoth';
import { DOCX, PDF } from '../file-types';
import type { ExtractedText } from '../extracted-text';
import { markdownFromHtml } from './markdown-from-html';
import { textFromPdf } from './text-from-pdf';

/** A file that cannot be read as the type it was detected as. */
export class UnreadableFileError extends Error {}

/** The text of a file of a supported type: markdown for HTML and DOCX, pages for PDF. */
export async function extractText(mimeType: string, data: Uint8Array): Promise<ExtractedText> {
  switch (mimeType) {
    case PDF:
      return textFromPdf(data).catch((err: unknown) => {
        throw new UnreadableFileError(pdfProblem(err));
      });
    case DOCX: {
      const { value } = await mammoth.convertToHtml({ buffer: Buffer.from(data.buffer, data.byteOffset, data.byteLength) }).catch((err: unknown) => {
        throw new UnreadableFileError(`not a readable DOCX document: ${messageOf(err)}`);
      });
      return { text: markdownFromHtml(value) };
    }
    case 'text/html':
      return { text: markdownFromHtml(utf8(data)) };
    case 'application/json':
      return { text: prettyJson(utf8(data)) };
    case 'text/markdown':
    case 'text/plain':
      return { text: utf8(data) };
    default:
      throw new UnreadableFileError(`no extractor for ${mimeType}`);
  }
}

function utf8(data: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(data);
  } catch {
    throw new UnreadableFileError('the text is not valid UTF-8: convert it to UTF-8 and upload it again');
  }
}

/** JSON re-indented, so that its structure reads as lines the splitter can cut between. */
function prettyJson(raw: string): string {
  try {
    return JSON.stringify(JSON.parse(raw), null, 2);
  } catch (err) {
    throw new UnreadableFileError(`not valid JSON: ${messageOf(err)}`);
  }
}

function pdfProblem(err: unknown): string {
  const name = err instanceof Error ? err.name : '';
  if (name === 'PasswordException') return 'the PDF is encrypted (password protected): upload it without a password';
  return `not a readable PDF: ${messageOf(err)}`;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
