import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';

/** How a document reaches the service: markdown and plain text as JSON content, HTML as a file upload. */
export type DocFormat = 'md' | 'txt' | 'html';

/** One document of an evaluation corpus: its file name (without extension), a title, its text. */
export interface CorpusDoc {
  id: string;
  file: string;
  format: DocFormat;
  title: string;
  content: string;
}

/** A question and the document (file name without extension) that answers it. */
export interface Question {
  question: string;
  expected: string;
}

/**
 * One corpus of bench/retrieval/corpora/<name>: `docs/` and `questions.json`. `paraphrased`
 * questions are written the way a user asks, mostly avoiding the document's own words;
 * `identifiers` quote an exact flag, error code, constant or API name of the expected document.
 */
export interface Corpus {
  name: string;
  docs: CorpusDoc[];
  paraphrased: Question[];
  identifiers: Question[];
}

export const QUESTION_TYPES = ['paraphrased', 'identifiers'] as const;
export type QuestionType = (typeof QUESTION_TYPES)[number];

function corporaDir(): string {
  // Works from the sources (bench/retrieval) and from the build (dist/bench/retrieval).
  for (const dir of [path.join(__dirname, 'corpora'), path.resolve(__dirname, '../../../bench/retrieval/corpora')]) {
    if (existsSync(dir)) return dir;
  }
  throw new Error('bench/retrieval/corpora not found');
}

const FORMATS: Record<string, DocFormat> = { '.md': 'md', '.markdown': 'md', '.txt': 'txt', '.html': 'html', '.htm': 'html' };

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return ENTITIES[e.toLowerCase()] ?? whole;
  });
}

/**
 * The title a client would send with the document: the first `#` heading of markdown, the
 * `<title>` (else first `<h1>`) of HTML, the file name of plain text (whose first line is
 * often a running header, such as a manual page's `TAR(1)  General Commands  TAR(1)`).
 */
function titleOf(format: DocFormat, content: string, id: string): string {
  let title: string | undefined;
  if (format === 'md') title = /^# (.+)$/m.exec(content)?.[1].replace(/`/g, '');
  else if (format === 'html') {
    const raw = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(content)?.[1] ?? /<h1[^>]*>([\s\S]*?)<\/h1>/i.exec(content)?.[1];
    title = raw === undefined ? undefined : decodeEntities(raw.replace(/<[^>]+>/g, ''));
  }
  title = title?.replace(/\s+/g, ' ').trim();
  return title ? title : id;
}

function loadDocs(dir: string): CorpusDoc[] {
  return readdirSync(dir)
    .filter((f) => FORMATS[path.extname(f).toLowerCase()] !== undefined)
    .sort()
    .map((f) => {
      const format = FORMATS[path.extname(f).toLowerCase()];
      const content = readFileSync(path.join(dir, f), 'utf8');
      const id = f.slice(0, -path.extname(f).length);
      return { id, file: f, format, title: titleOf(format, content, id), content };
    });
}

function loadOne(dir: string, name: string): Corpus {
  const docs = loadDocs(path.join(dir, name, 'docs'));
  const q = JSON.parse(readFileSync(path.join(dir, name, 'questions.json'), 'utf8')) as Partial<Record<QuestionType, Question[]>>;
  const corpus: Corpus = { name, docs, paraphrased: q.paraphrased ?? [], identifiers: q.identifiers ?? [] };
  const ids = new Set(docs.map((d) => d.id));
  const unknown = [...corpus.paraphrased, ...corpus.identifiers].filter((x) => !ids.has(x.expected));
  if (unknown.length > 0) throw new Error(`${name}: questions expect unknown documents: ${unknown.map((x) => x.expected).join(', ')}`);
  return corpus;
}

/** Every corpus under bench/retrieval/corpora (or those named in `only`), in name order. */
export function loadCorpora(only?: readonly string[]): Corpus[] {
  const dir = corporaDir();
  const names = readdirSync(dir)
    .filter((n) => existsSync(path.join(dir, n, 'questions.json')) && existsSync(path.join(dir, n, 'docs')))
    .filter((n) => !only || only.includes(n))
    .sort();
  if (only) {
    const missing = only.filter((n) => !names.includes(n));
    if (missing.length > 0) throw new Error(`no corpus ${missing.join(', ')} under ${dir}`);
  }
  return names.map((n) => loadOne(dir, n));
}

/** The documents of one corpus (the Node.js API documentation by default). */
export function loadCorpus(name = 'nodejs'): CorpusDoc[] {
  return loadCorpora([name])[0].docs;
}
