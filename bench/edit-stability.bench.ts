/**
 * How many chunks one edit makes the service re-embed: a seeded document of about 100
 * chunks is split, one paragraph is edited (in several places and ways), the text is
 * split again, and every chunk whose embedded text (context + content) is not among the
 * old ones counts as re-embedded, since the embedding cache is keyed by that text. The
 * service's splitter (SPLITTER_VERSION 2) runs next to, in characters, the old greedy
 * one (SPLITTER_VERSION 1).
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/edit-stability.bench.js
 *       [--size 1000] [--overlap 150] [--chars 85000] [--docs 5] [--places 8] [--seed 1]
 *       [--unit tokens [--tokenizer minilm|cl100k]] [--worst 4] [--verbose]
 *
 * With --unit tokens the splitters size chunks in tokens (--size/--overlap then default
 * to the tokenizer's CHUNK_SIZE_TOKENS/CHUNK_OVERLAP_TOKENS defaults).
 *
 * Three shapes of document: markdown (sections, paragraphs, lists, code blocks), plain prose
 * in long paragraphs (split at sentences), and the same prose with no blank lines at all.
 * Each kind of edit is made to `--places` paragraphs spread over each document. For each
 * shape, splitter and kind the bench prints the mean, p90, p99 and max of re-embedded
 * chunks, the share of edits re-embedding at most 3, and the largest excess over the floor: the chunks the changed text alone fills
 * (its size over `size - overlap`, at least 1), which no splitter with that room beats
 * by much; only an edit that changes more than a chunk's room of text has a floor above 1.
 * --worst N prints every edit of the service's splitter that
 * re-embeds N or more chunks, with the chunks around it before and after (offsets; a
 * star marks a re-embedded chunk); --verbose prints every trial.
 */
import { CL100K_TOKENIZER, MINILM_TOKENIZER, TokenizerSpec, loadTokenizer } from '../src/embedding/tokenizer';
import { chunkContext, headingPathAt, markdownHeadings, textToEmbed } from '../src/ingest/chunking/chunk-context';
import { tokenMeasure } from '../src/ingest/chunking/pipeline-splitter';
import { SplitOptions, TextChunk, splitText } from '../src/ingest/chunking/text-splitter';
import { mulberry32 } from './support/corpus';
import { splitTextGreedy } from './support/greedy-splitter';
import { DocumentShape, MarkdownBlock, joinBlocks, markdownDocument, paragraphOf, sentenceOf } from './support/markdown-document';

type Splitter = (text: string) => TextChunk[];
type Rand = () => number;

const TOKENIZERS: Record<string, TokenizerSpec> = { minilm: MINILM_TOKENIZER, cl100k: CL100K_TOKENIZER };
const SERVICE = 'v2 (service)';

/** The splitters compared, by name, each with its sizes bound. */
function splitters(o: Options, measure: ((text: string) => number) | undefined): Array<[string, Splitter]> {
  const split: SplitOptions = { size: o.size, overlap: o.overlap, measure };
  const list: Array<[string, Splitter]> = [];
  if (!measure) list.push(['v1 (greedy)', (t) => splitTextGreedy(t, split)]);
  list.push([SERVICE, (t) => splitText(t, split)]);
  return list;
}

function sentencesOf(text: string): string[] {
  return text.match(/[^.?]+[.?]+/g)?.map((s) => s.trim()) ?? [text];
}

/** One way to change a paragraph: its new text, or null to delete it. */
const EDITS: Array<[string, (text: string, rand: Rand) => string | null]> = [
  ['replace 3 words', (text, rand) => {
    const words = text.split(' ');
    const at = Math.floor(words.length / 2);
    for (let i = 0; i < 3 && at + i < words.length - 1; i++) words[at + i] = `edited${Math.floor(rand() * 1000)}`;
    return words.join(' ');
  }],
  ['insert a sentence', (text, rand) => {
    const s = sentencesOf(text);
    s.splice(Math.ceil(s.length / 2), 0, sentenceOf(rand));
    return s.join(' ');
  }],
  ['edit first sentence', (text, rand) => text.replace(/^[^.?]+[.?]/, sentenceOf(rand))],
  ['grow (+2 sentences)', (text, rand) => `${text} ${sentenceOf(rand)} ${sentenceOf(rand)}`],
  ['shrink (-half)', (text) => {
    const s = sentencesOf(text);
    return s.slice(0, Math.max(1, Math.ceil(s.length / 2))).join(' ');
  }],
  ['double', (text, rand) => {
    const added: string[] = [];
    for (let length = 0; length < text.length; ) length += added[added.push(sentenceOf(rand)) - 1].length + 1;
    return `${text} ${added.join(' ')}`;
  }],
  ['rewrite', (_text, rand) => paragraphOf(rand)],
  ['replace by shorter', (text, rand) => {
    const n = Math.max(1, Math.floor(sentencesOf(text).length / 3));
    return Array.from({ length: n }, () => sentenceOf(rand)).join(' ');
  }],
  ['delete', () => null],
  ['insert a paragraph after', (text, rand) => `${text}\n\n${paragraphOf(rand)}`],
];

interface Options {
  size: number;
  overlap: number;
  chars: number;
  docs: number;
  places: number;
  seed: number;
  worst: number;
  of: string;
  verbose: boolean;
  unit: 'chars' | 'tokens';
  tokenizer: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    size: NaN, overlap: NaN, chars: 85_000, docs: 5, places: 8, seed: 1, worst: Infinity, of: SERVICE, verbose: false, unit: 'chars', tokenizer: 'minilm',
  };
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

interface Embedded {
  chunk: TextChunk;
  text: string;
}

/** The texts the worker would send to the provider (or find in the cache) for a document. */
function embeddedTexts(split: Splitter, title: string, text: string): Embedded[] {
  const headings = markdownHeadings(text);
  return split(text).map((chunk) => ({ chunk, text: textToEmbed(chunkContext(title, headingPathAt(headings, chunk.start)), chunk.content) }));
}

/** The new text of an edit: what lies between the old and new texts' common prefix and suffix. */
function changedText(before: string, after: string): string {
  let p = 0;
  const max = Math.min(before.length, after.length);
  while (p < max && before[p] === after[p]) p++;
  let s = 0;
  while (s < max - p && before[before.length - 1 - s] === after[after.length - 1 - s]) s++;
  return after.slice(p, after.length - s);
}

/** The document shapes measured: blocks, and whether they are joined without blank lines. */
const SHAPES: Array<[string, DocumentShape, boolean]> = [
  ['markdown', 'markdown', false],
  ['long paragraphs', 'long-paragraphs', false],
  ['no blank lines', 'long-paragraphs', true],
];

interface Trial {
  kind: string;
  reembedded: number;
  floor: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

function describe(trials: Trial[]): string {
  const r = trials.map((t) => t.reembedded).sort((a, b) => a - b);
  const mean = r.reduce((a, b) => a + b, 0) / r.length;
  const excess = Math.max(...trials.map((t) => t.reembedded - t.floor));
  const within = r.filter((n) => n <= 3).length / r.length;
  return `${mean.toFixed(2).padStart(6)} ${String(percentile(r, 0.9)).padStart(4)} ${String(percentile(r, 0.99)).padStart(4)} ` +
    `${String(r[r.length - 1]).padStart(4)} ${(within * 100).toFixed(1).padStart(6)}% ${String(Math.max(...trials.map((t) => t.floor))).padStart(6)} ${`+${excess}`.padStart(7)}`;
}

const HEADER = `${'mean'.padStart(6)} ${'p90'.padStart(4)} ${'p99'.padStart(4)} ${'max'.padStart(4)} ${'<=3'.padStart(7)} ${'floor'.padStart(6)} ${'excess'.padStart(7)}`;

/** The chunks of `list` that reach into [from, to), as `[start,end)`, starred when re-embedded. */
function layout(list: Embedded[], from: number, to: number, known?: Set<string>): string {
  return list
    .filter((e) => e.chunk.end > from && e.chunk.start < to)
    .map((e) => `${known && !known.has(e.text) ? '*' : ''}[${e.chunk.start},${e.chunk.end})`)
    .join(' ');
}

function main(): void {
  const o = parseArgs(process.argv.slice(2));
  const spec = TOKENIZERS[o.tokenizer];
  const measure = o.unit === 'tokens' ? tokenMeasure(loadTokenizer(spec.id)) : undefined;
  const size = measure ?? ((t: string): number => t.length);
  const room = o.size - o.overlap;
  const SPLITTERS = splitters(o, measure);
  const unit = measure ? `${o.tokenizer} tokens` : 'chars';
  console.log(`edit stability: size ${o.size}, overlap ${o.overlap} (${unit}), ${o.docs} document(s) of ~${o.chars} chars per shape, ` +
    `${EDITS.length} kinds of edit x ${o.places} places, seed ${o.seed}`);
  const summaries: string[] = [];
  const details: string[] = [];
  for (const [shapeName, shape, unbroken] of SHAPES) {
    const trials = new Map<string, Trial[]>(SPLITTERS.map(([name]) => [name, []]));
    const sizes = new Map<string, number[]>(SPLITTERS.map(([name]) => [name, []]));
    for (let d = 0; d < o.docs; d++) {
      const seed = o.seed + d;
      const blocks = markdownDocument(seed, o.chars, shape);
      const title = `Handbook ${seed}`;
      const text = joinBlocks(blocks, unbroken);
      const before = new Map(SPLITTERS.map(([name, fn]) => [name, embeddedTexts(fn, title, text)]));
      const known = new Map(SPLITTERS.map(([name]) => [name, new Set(before.get(name)!.map((e) => e.text))]));
      for (const [name] of SPLITTERS) sizes.get(name)!.push(...before.get(name)!.map((e) => e.chunk.content.length));
      const paragraphs = blocks.flatMap((b, i) => (b.kind === 'paragraph' ? [i] : []));
      if (o.verbose) {
        console.log(`\n${shapeName} document ${seed}: ${text.length} chars, ${paragraphs.length} paragraphs; chunks ` +
          SPLITTERS.map(([name]) => `${name} ${before.get(name)!.length}`).join(', '));
      }
      for (const [kind, edit] of EDITS) {
        for (let place = 0; place < o.places; place++) {
          const fraction = (place + 0.5) / o.places;
          const rand = mulberry32(seed * 7919 + kind.length * 31 + place * 101);
          const target = paragraphs[Math.min(paragraphs.length - 1, Math.floor(paragraphs.length * fraction))];
          const replacement = edit(blocks[target].text, rand);
          const edited: MarkdownBlock[] = blocks.flatMap((b, i) => (i !== target ? [b] : replacement === null ? [] : [{ ...b, text: replacement }]));
          const editedText = joinBlocks(edited, unbroken);
          const changed = changedText(text, editedText).trim();
          const floor = Math.max(1, Math.ceil((changed === '' ? 0 : size(changed)) / room));
          const row: number[] = [];
          for (const [name, fn] of SPLITTERS) {
            const after = embeddedTexts(fn, title, editedText);
            const reembedded = after.filter((e) => !known.get(name)!.has(e.text)).length;
            trials.get(name)!.push({ kind, reembedded, floor });
            row.push(reembedded);
            if (name === o.of && reembedded >= o.worst) {
              const at = joinBlocks(blocks.slice(0, target), unbroken).length;
              const oldEnd = at + blocks[target].text.length;
              const newEnd = at + (replacement?.length ?? 0);
              details.push(
                `${shapeName}, document ${seed}, ${kind} at ${fraction.toFixed(2)}: ${reembedded} re-embedded (floor ${floor}); ` +
                  `paragraph [${at},${oldEnd}) -> [${at},${newEnd})\n` +
                  `  before: ${layout(before.get(name)!, at - 1500, oldEnd + 1500)}\n` +
                  `  after:  ${layout(after, at - 1500, newEnd + 1500, known.get(name)!)}`,
              );
            }
          }
          if (o.verbose) console.log(`${kind.padEnd(26)} ${fraction.toFixed(2)} ${row.map((n) => String(n).padStart(4)).join(' ')}`);
        }
      }
    }
    for (const [name] of SPLITTERS) {
      const all = trials.get(name)!;
      const s = sizes.get(name)!;
      summaries.push(
        `${shapeName.padEnd(16)} ${name.padEnd(22)} ${(s.length / o.docs).toFixed(1).padStart(10)} ` +
          `${(s.reduce((a, b) => a + b, 0) / s.length).toFixed(0).padStart(9)} ${describe(all)}`,
      );
    }
    const kinds: string[] = [`\n${shapeName}: per kind of edit`, `${'kind'.padEnd(26)} ${SPLITTERS.map(([name]) => `${name.padEnd(22)}${HEADER}`).join('  |  ')}`];
    for (const [kind] of EDITS) {
      kinds.push(`${kind.padEnd(26)} ${SPLITTERS.map(([name]) => ''.padEnd(22) + describe(trials.get(name)!.filter((t) => t.kind === kind))).join('  |  ')}`);
    }
    console.log(kinds.join('\n'));
  }
  console.log(`\nre-embedded chunks per one-paragraph edit (${EDITS.length * o.places} edits x ${o.docs} documents per shape; ` +
    `floor: chunks the changed text fills alone; excess: most re-embedded beyond the floor):`);
  console.log(`${'shape'.padEnd(16)} ${'splitter'.padEnd(22)} ${'chunks/doc'.padStart(10)} ${'mean len'.padStart(9)} ${HEADER}`);
  for (const line of summaries) console.log(line);
  if (details.length > 0) console.log(`\nedits re-embedding ${o.worst} or more chunks with ${o.of} (* re-embedded):\n${details.join('\n')}`);
}

main();
