import { extractText, getDocumentProxy } from 'unpdf';
import type { ExtractedText } from '../extracted-text';

/** Pages are separated by a blank line, so no word runs from one page into the next. */
const PAGE_BREAK = '\n\n';

/** The text of each page, in order, with where each page starts. Throws for encrypted or corrupt files. */
export async function textFromPdf(data: Uint8Array): Promise<ExtractedText> {
  const pdf = await getDocumentProxy(data, { verbosity: 0, isEvalSupported: false });
  try {
    const { text: pages } = await extractText(pdf, { mergePages: false });
    const pageStarts: number[] = [];
    let text = '';
    for (const page of pages) {
      if (pageStarts.length > 0) text += PAGE_BREAK;
      pageStarts.push(text.length);
      text += page.trim();
    }
    return { text, pageStarts };
  } finally {
    await pdf.destroy();
  }
}
