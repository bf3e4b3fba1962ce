import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

/** Extensions the CLI sends, with the content type it declares. */
export const SUPPORTED_TYPES: Readonly<Record<string, string>> = {
  '.md': 'text/markdown',
  '.markdown': 'text/markdown',
  '.txt': 'text/plain',
  '.html': 'text/html',
  '.htm': 'text/html',
  '.pdf': 'application/pdf',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.json': 'application/json',
};

/** Types any server takes as a JSON text post when it does not take uploads. */
export const TEXT_TYPES = new Set(['.md', '.markdown', '.txt']);

export interface DocumentFile {
  absolutePath: string;
  /** Path relative to the folder given, with `/` separators: the document's externalId. */
  relativePath: string;
  extension: string;
  contentType: string;
}

/**
 * Every supported file under `root` (or `root` itself if it is a file), sorted by path.
 * Hidden files and folders (`.git`, ...) and `node_modules` are skipped.
 */
export async function findDocumentFiles(root: string): Promise<{ files: DocumentFile[]; skipped: string[] }> {
  const files: DocumentFile[] = [];
  const skipped: string[] = [];
  const info = await stat(root);
  const base = info.isDirectory() ? root : path.dirname(root);
  const visit = async (p: string): Promise<void> => {
    const s = await stat(p);
    if (s.isDirectory()) {
      const entries = (await readdir(p)).filter((e) => !e.startsWith('.') && e !== 'node_modules').sort();
      for (const e of entries) await visit(path.join(p, e));
      return;
    }
    if (!s.isFile()) return;
    const relativePath = path.relative(base, p).split(path.sep).join('/');
    const extension = path.extname(p).toLowerCase();
    const contentType = SUPPORTED_TYPES[extension];
    if (contentType) files.push({ absolutePath: p, relativePath, extension, contentType });
    else skipped.push(relativePath);
  };
  await visit(root);
  return { files, skipped };
}
