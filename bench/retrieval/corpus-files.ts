import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';

/** One document of the evaluation corpus: its file name (without `.md`), its first heading, its text. */
export interface CorpusDoc {
  id: string;
  title: string;
  content: string;
}

function corpusDir(): string {
  // Works from the sources (bench/retrieval) and from the build (dist/bench/retrieval).
  for (const dir of [path.join(__dirname, 'corpus'), path.resolve(__dirname, '../../../bench/retrieval/corpus')]) {
    if (existsSync(dir)) return dir;
  }
  throw new Error('bench/retrieval/corpus not found');
}

/** The markdown documents of bench/retrieval/corpus, in file-name order. */
export function loadCorpus(): CorpusDoc[] {
  const dir = corpusDir();
  return readdirSync(dir)
    .filter((f) => f.endsWith('.md') && f !== 'SOURCES.md')
    .sort()
    .map((f) => {
      const content = readFileSync(path.join(dir, f), 'utf8');
      const h1 = /^# (.+)$/m.exec(content)?.[1] ?? f;
      return { id: f.replace(/\.md$/, ''), title: h1.replace(/`/g, '').trim(), content };
    });
}
