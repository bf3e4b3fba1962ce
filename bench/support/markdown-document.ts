/**
 * A seeded markdown-ish document for the edit-stability bench and the re-embedding test:
 * `#`/`##`/`###` sections of prose paragraphs, with a few bullet lists and fenced code
 * blocks, kept as a list of blocks so a caller can edit one paragraph and re-join it.
 */
import { mulberry32 } from './corpus';

/** One block of the document; `kind` says which blocks are prose paragraphs safe to edit. */
export interface MarkdownBlock {
  kind: 'heading' | 'paragraph' | 'list' | 'code';
  text: string;
}

type Rand = () => number;

const WORDS = [
  'index', 'query', 'planner', 'replica', 'snapshot', 'schema', 'checkpoint', 'worker', 'queue', 'vector',
  'chunk', 'embedding', 'cache', 'batch', 'latency', 'throughput', 'retry', 'backoff', 'lease', 'shard',
  'tomato', 'compost', 'harbour', 'keel', 'comet', 'orbit', 'ledger', 'audit', 'risotto', 'broth',
  'careful', 'durable', 'stale', 'quick', 'gentle', 'steep', 'quiet', 'narrow', 'broad', 'early',
];
const VERBS = ['scans', 'commits', 'retries', 'measures', 'rebuilds', 'drains', 'splits', 'merges', 'writes', 'reads'];
const CODE_LINES = [
  'const rows = await db.query(sql, params);',
  'for (const row of rows) total += row.count;',
  'if (total > limit) throw new Error("too many rows");',
  'return rows.map((r) => r.id);',
  'await queue.add("ingest", { documentId, version });',
  'logger.info(`processed ${count} documents`);',
  'const vector = await embedder.embed([text]);',
  '// retry with backoff when the upstream is busy',
];

function pick<T>(rand: Rand, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)];
}

/** A sentence of 8–22 words. */
export function sentenceOf(rand: Rand): string {
  const n = 8 + Math.floor(rand() * 15);
  const words = Array.from({ length: n }, (_, i) => (i === 2 ? pick(rand, VERBS) : pick(rand, WORDS)));
  words[0] = words[0][0].toUpperCase() + words[0].slice(1);
  return words.join(' ') + (rand() < 0.1 ? '?' : '.');
}

/** A paragraph of 2–9 sentences (about 150–1,300 characters). */
export function paragraphOf(rand: Rand): string {
  return Array.from({ length: 2 + Math.floor(rand() * 8) }, () => sentenceOf(rand)).join(' ');
}

/**
 * What the document looks like: `markdown` (sections, paragraphs, lists, code), or plain
 * prose in long paragraphs of 8–30 sentences (`long-paragraphs`), which a chunk of 1,000
 * characters cannot hold whole, so the splitter works at sentence level.
 */
export type DocumentShape = 'markdown' | 'long-paragraphs';

/** A document of at least `minChars` characters, the same for the same seed and shape. */
export function markdownDocument(seed: number, minChars: number, shape: DocumentShape = 'markdown'): MarkdownBlock[] {
  const rand = mulberry32(seed);
  if (shape === 'long-paragraphs') {
    const paragraphs: MarkdownBlock[] = [];
    for (let length = 0; length < minChars; ) {
      const text = Array.from({ length: 8 + Math.floor(rand() * 23) }, () => sentenceOf(rand)).join(' ');
      paragraphs.push({ kind: 'paragraph', text });
      length += text.length + 2;
    }
    return paragraphs;
  }
  const blocks: MarkdownBlock[] = [{ kind: 'heading', text: `# Operations handbook ${seed}` }];
  let length = 0;
  for (let section = 1; length < minChars; section++) {
    const level = section === 1 || rand() < 0.6 ? '##' : '###';
    blocks.push({ kind: 'heading', text: `${level} ${section}. ${pick(rand, WORDS)} and ${pick(rand, WORDS)}` });
    const count = 1 + Math.floor(rand() * 6);
    for (let i = 0; i < count; i++) {
      const r = rand();
      let block: MarkdownBlock;
      if (r < 0.08) {
        const lines = Array.from({ length: 4 + Math.floor(rand() * 20) }, () => pick(rand, CODE_LINES));
        block = { kind: 'code', text: ['```ts', ...lines, '```'].join('\n') };
      } else if (r < 0.16) {
        const items = Array.from({ length: 3 + Math.floor(rand() * 5) }, () => `- ${sentenceOf(rand)}`);
        block = { kind: 'list', text: items.join('\n') };
      } else {
        block = { kind: 'paragraph', text: paragraphOf(rand) };
      }
      blocks.push(block);
      length += block.text.length + 2;
    }
  }
  return blocks;
}

/**
 * The document's text: blocks separated by blank lines, or by single line breaks
 * (`unbroken`, like text extracted from a PDF or a transcript: no paragraph marks).
 */
export function joinBlocks(blocks: readonly MarkdownBlock[], unbroken = false): string {
  return blocks.map((b) => b.text).join(unbroken ? '\n' : '\n\n') + '\n';
}
