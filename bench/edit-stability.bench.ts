/**
 * How many chunks one edit makes the service re-embed: a seeded markdown document of
 * about 100 chunks is split, one paragraph is edited (in several places and ways), the
 * text is split again, and every chunk whose embedded text (context + content) is not
 * among the old ones counts as re-embedded, since the embedding cache is keyed by that
 * text. The old greedy splitter (SPLITTER_VERSION 1) runs next to the current one.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/edit-stability.bench.js
 *       [--size 1000] [--overlap 150] [--chars 85000] [--docs 5] [--seed 1] [--verbose]
 *       [--unit tokens [--tokenizer minilm|cl100k]]
 *
 * With --unit tokens the current splitter sizes chunks in tokens (--size/--overlap then
 * default to the tokenizer's CHUNK_SIZE_TOKENS/CHUNK_OVERLAP_TOKENS defaults) and runs
 * next to itself in characters (1000/150), instead of next to the greedy splitter.
 *
 * Three shapes of document: markdown (sections, paragraphs, lists, code blocks), plain prose
 * in long paragraphs (split at sentences), and the same prose with no blank lines at all.
 * --verbose prints every trial of every document, not only the first markdown one's.
 */
import { CL100K_TOKENIZER, MINILM_TOKENIZER, TokenizerSpec, loadTokenizer } from '../src/embedding/tokenizer';
import { chunkContext, headingPathAt, markdownHeadings, textToEmbed } from '../src/ingest/chunk-context';
import { tokenMeasure } from '../src/ingest/pipeline-splitter';
import { SplitOptions, TextChunk, splitText } from '../src/ingest/text-splitter';
import { mulberry32 } from './support/corpus';
import { splitTextGreedy } from './support/greedy-splitter';
import { DocumentShape, MarkdownBlock, joinBlocks, markdownDocument, paragraphOf, sentenceOf } from './support/markdown-document';

type Splitter = (text: string) => TextChunk[];
type Rand = () => number;

const TOKENIZERS: Record<string, TokenizerSpec> = { minilm: MINILM_TOKENIZER, cl100k: CL100K_TOKENIZER };

/** The splitters compared, by name, each with its sizes already bound. */
function splitters(o: Options): Array<[string, Splitter]> {
  const split: SplitOptions = { size: o.size, overlap: o.overlap };
  if (o.unit === 'chars') {
    return [
      ['old (greedy)', (t) => splitTextGreedy(t, split)],
      ['new (content-defined)', (t) => splitText(t, split)],
    ];
  }
  const measure = tokenMeasure(loadTokenizer(TOKENIZERS[o.tokenizer].id));
  return [
    ['new, chars 1000/150', (t) => splitText(t, { size: 1000, overlap: 150 })],
    [`new, tokens ${o.size}/${o.overlap}`, (t) => splitText(t, { ...split, measure })],
  ];
}

/** One way to change a paragraph: returns its new text. */
const EDITS: Array<[string, (text: string, rand: Rand) => string]> = [
  ['replace 3 words', (text, rand) => {
    const words = text.split(' ');
    const at = Math.floor(words.length / 2);
    for (let i = 0; i < 3 && at + i < words.length - 1; i++) words[at + i] = `edited${Math.floor(rand() * 1000)}`;
    return words.join(' ');
  }],
  ['grow (+2 sentences)', (text, rand) => `${text} ${sentenceOf(rand)} ${sentenceOf(rand)}`],
  ['shrink (-half)', (text) => {
    const sentences = text.match(/[^.?]+[.?]/g) ?? [text];
    return sentences.slice(0, Math.max(1, Math.ceil(sentences.length / 2))).join('').trim();
  }],
  ['rewrite', (_text, rand) => paragraphOf(rand)],
  ['edit first sentence', (text, rand) => text.replace(/^[^.?]+[.?]/, sentenceOf(rand))],
];

/** Where in the document the edited paragraph is, as a fraction of the paragraphs. */
const PLACES: Array<[string, number]> = [
  ['near start', 0.03],
  ['quarter', 0.25],
  ['middle', 0.5],
  ['near end', 0.9],
];

interface Options {
  size: number;
  overlap: number;
  chars: number;
  docs: number;
  seed: number;
  verbose: boolean;
  unit: 'chars' | 'tokens';
  tokenizer: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { size: NaN, overlap: NaN, chars: 85_000, docs: 5, seed: 1, verbose: false, unit: 'chars', tokenizer: 'minilm' };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    if (key === 'verbose') o.verbose = true;
    else if (key === 'unit' && (argv[i + 1] === 'chars' || argv[i + 1] === 'tokens')) o.unit = argv[++i] as Options['unit'];
    else if (key === 'tokenizer' && argv[i + 1] in TOKENIZERS) o.tokenizer = argv[++i];
    else if (key in o && typeof (o as unknown as Record<string, unknown>)[key] === 'number') {
      (o as unknown as Record<string, number>)[key] = Number(argv[++i]);
    } else throw new Error(`unknown option ${argv[i]}`);
  }
  const spec = TOKENIZERS[o.tokenizer];
  if (Number.isNaN(o.size)) o.size = o.unit === 'tokens' ? spec.defaultSize : 1000;
  if (Number.isNaN(o.overlap)) o.overlap = o.unit === 'tokens' ? spec.defaultOverlap : 150;
  return o;
}

/** The texts the worker would send to the provider (or find in the cache) for a document. */
function embeddedTexts(split: Splitter, title: string, text: string): string[] {
  const headings = markdownHeadings(text);
  return split(text).map((c) => textToEmbed(chunkContext(title, headingPathAt(headings, c.start)), c.content));
}

function reembedded(before: string[], after: string[]): number {
  const known = new Set(before);
  return after.filter((t) => !known.has(t)).length;
}

/** The document shapes measured: blocks, and whether they are joined without blank lines. */
const SHAPES: Array<[string, DocumentShape, boolean]> = [
  ['markdown', 'markdown', false],
  ['long paragraphs', 'long-paragraphs', false],
  ['no blank lines', 'long-paragraphs', true],
];

function main(): void {
  const o = parseArgs(process.argv.slice(2));
  const SPLITTERS = splitters(o);
  const unit = o.unit === 'tokens' ? `${o.tokenizer} tokens` : 'chars';
  console.log(`edit stability: size ${o.size}, overlap ${o.overlap} (${unit}), ${o.docs} document(s) of ~${o.chars} chars per shape, seed ${o.seed}`);
  const summaries: string[] = [];
  for (const [shapeName, shape, unbroken] of SHAPES) {
    const results = new Map<string, number[]>(SPLITTERS.map(([name]) => [name, []]));
    const sizes = new Map<string, number[]>(SPLITTERS.map(([name]) => [name, []]));
    for (let d = 0; d < o.docs; d++) {
      const seed = o.seed + d;
      const blocks = markdownDocument(seed, o.chars, shape);
      const title = `Handbook ${seed}`;
      const text = joinBlocks(blocks, unbroken);
      const before = new Map(SPLITTERS.map(([name, fn]) => [name, embeddedTexts(fn, title, text)]));
      for (const [name, fn] of SPLITTERS) sizes.get(name)!.push(...fn(text).map((c) => c.content.length));
      const paragraphs = blocks.flatMap((b, i) => (b.kind === 'paragraph' ? [i] : []));
      const show = (d === 0 && shape === 'markdown' && !unbroken) || o.verbose;
      if (show) {
        console.log(`\n${shapeName} document ${seed}: ${text.length} chars, ${paragraphs.length} paragraphs; chunks ` +
          SPLITTERS.map(([name]) => `${name} ${before.get(name)!.length}`).join(', '));
        console.log(`${'edit'.padEnd(22)} ${'where'.padEnd(11)} ${SPLITTERS.map(([name]) => name.padStart(22)).join(' ')}`);
      }
      for (const [editName, edit] of EDITS) {
        for (const [placeName, fraction] of PLACES) {
          const rand = mulberry32(seed * 7919 + editName.length * 31 + Math.round(fraction * 100));
          const target = paragraphs[Math.min(paragraphs.length - 1, Math.floor(paragraphs.length * fraction))];
          const edited: MarkdownBlock[] = blocks.map((b, i) => (i === target ? { ...b, text: edit(b.text, rand) } : b));
          const editedText = joinBlocks(edited, unbroken);
          const row: number[] = [];
          for (const [name, fn] of SPLITTERS) {
            const n = reembedded(before.get(name)!, embeddedTexts(fn, title, editedText));
            results.get(name)!.push(n);
            row.push(n);
          }
          if (show) console.log(`${editName.padEnd(22)} ${placeName.padEnd(11)} ${row.map((n) => String(n).padStart(22)).join(' ')}`);
        }
      }
    }
    for (const [name] of SPLITTERS) {
      const r = [...results.get(name)!].sort((a, b) => a - b);
      const s = sizes.get(name)!;
      const mean = r.reduce((a, b) => a + b, 0) / r.length;
      const within = r.filter((n) => n <= 3).length / r.length;
      summaries.push(
        `${shapeName.padEnd(16)} ${name.padEnd(22)} ${(s.length / o.docs).toFixed(1).padStart(10)} ${(s.reduce((a, b) => a + b, 0) / s.length).toFixed(0).padStart(9)} ` +
          `${mean.toFixed(2).padStart(10)} ${String(r[Math.floor(r.length * 0.9)]).padStart(5)} ${String(r[r.length - 1]).padStart(5)} ${(within * 100).toFixed(0).padStart(5)}%`,
      );
    }
  }
  console.log(`\nre-embedded chunks per one-paragraph edit (${EDITS.length * PLACES.length} edits x ${o.docs} documents per shape):`);
  console.log(`${'shape'.padEnd(16)} ${'splitter'.padEnd(22)} ${'chunks/doc'.padStart(10)} ${'mean len'.padStart(9)} ${'mean'.padStart(10)} ${'p90'.padStart(5)} ${'max'.padStart(5)} ${'<=3'.padStart(6)}`);
  for (const line of summaries) console.log(line);
}

main();
