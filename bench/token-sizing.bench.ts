/**
 * Chunk sizing in tokens against sizing in characters, on bench/retrieval/corpora/nodejs (36 real
 * markdown documents, 1.35 MB of Node.js API docs):
 *
 * 1. Speed: the whole corpus as one document, split in characters (CHUNK_SIZE 1000/150)
 *    and in tokens of each tokenizer at its default sizes; beside it, one pass of the
 *    tokenizer over the whole text, the floor any token sizing pays.
 * 2. Fit in the local model: per document, as the worker embeds them (contextual
 *    "title > heading: " prefix + content, plus [CLS] and [SEP]), how many chunks pass
 *    all-MiniLM-L6-v2's 256-token window, so that their end is never embedded.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/token-sizing.bench.js [--repeat 7]
 */
import { CL100K_TOKENIZER, MINILM_TOKENIZER, Tokenizer, TokenizerSpec, loadTokenizer } from '../src/embedding/tokenizer';
import { chunkContext, headingPathAt, markdownHeadings, textToEmbed } from '../src/ingest/chunking/chunk-context';
import { tokenMeasure } from '../src/ingest/chunking/pipeline-splitter';
import { SplitOptions, TextChunk, splitText } from '../src/ingest/chunking/text-splitter';
import { loadCorpus } from './retrieval/corpus-files';

const MINILM_WINDOW = 256;

/** Median wall time of `repeat` runs, in ms. */
function time(repeat: number, run: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const start = process.hrtime.bigint();
    run();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

function tokensOptions(spec: TokenizerSpec, tokenizer: Tokenizer, onMeasure?: (text: string) => void): SplitOptions {
  const measure = tokenMeasure(tokenizer);
  return {
    size: spec.defaultSize,
    overlap: spec.defaultOverlap,
    measure: onMeasure ? (t) => (onMeasure(t), measure(t)) : measure,
  };
}

function speed(text: string, repeat: number): void {
  const chars: SplitOptions = { size: 1000, overlap: 150 };
  splitText(text, chars); // warm up
  const base = time(repeat, () => splitText(text, chars));
  console.log(`speed: one document of ${text.length} chars, median of ${repeat} runs`);
  console.log(`${'split'.padEnd(36)} ${'ms'.padStart(8)} ${'x chars'.padStart(8)} ${'x 1 pass'.padStart(9)} ${'measured'.padStart(9)} ${'chunks'.padStart(7)}`);
  console.log(`${'chars 1000/150'.padEnd(36)} ${base.toFixed(0).padStart(8)} ${'1.0'.padStart(8)} ${''.padStart(9)} ${''.padStart(9)} ${String(splitText(text, chars).length).padStart(7)}`);
  for (const [label, spec] of [['minilm', MINILM_TOKENIZER], ['cl100k', CL100K_TOKENIZER]] as const) {
    const tokenizer = loadTokenizer(spec.id);
    tokenizer.count(text.slice(0, 10000)); // warm up
    const pass = time(repeat, () => tokenizer.count(text));
    let measured = 0;
    const chunks = splitText(text, tokensOptions(spec, tokenizer, (t) => (measured += t.length)));
    const options = tokensOptions(spec, tokenizer);
    const split = time(repeat, () => splitText(text, options));
    const row = (name: string, ms: number, vsPass: string, more: string): string =>
      `${name.padEnd(36)} ${ms.toFixed(0).padStart(8)} ${(ms / base).toFixed(1).padStart(8)} ${vsPass.padStart(9)} ${more}`;
    console.log(row(`${label}: one count of the whole text`, pass, '1.0', ''));
    console.log(row(`${label}: split in tokens ${spec.defaultSize}/${spec.defaultOverlap}`, split, (split / pass).toFixed(1),
      `${(measured / text.length).toFixed(2).padStart(8)}x ${String(chunks.length).padStart(7)}`));
  }
  console.log('(x chars: time against the split in characters; x 1 pass: against one count of the whole text; measured: text handed to the tokenizer / text length)');
}

interface Fit {
  chunks: number;
  chars: number;
  tokens: number;
  over: number;
  overContent: number;
  maxTokens: number;
}

/** How the chunks of `split` fit the MiniLM window once embedded with their context. */
function fit(corpus: Array<{ title: string; content: string }>, minilm: Tokenizer, split: (text: string) => TextChunk[]): Fit {
  const f: Fit = { chunks: 0, chars: 0, tokens: 0, over: 0, overContent: 0, maxTokens: 0 };
  for (const doc of corpus) {
    const headings = markdownHeadings(doc.content);
    for (const c of split(doc.content)) {
      const embedded = minilm.count(textToEmbed(chunkContext(doc.title, headingPathAt(headings, c.start)), c.content)) + 2;
      f.chunks++;
      f.chars += c.content.length;
      f.tokens += embedded;
      f.maxTokens = Math.max(f.maxTokens, embedded);
      if (embedded > MINILM_WINDOW) f.over++;
      if (minilm.count(c.content) + 2 > MINILM_WINDOW) f.overContent++;
    }
  }
  return f;
}

function window(corpus: Array<{ title: string; content: string }>): void {
  const minilm = loadTokenizer(MINILM_TOKENIZER.id);
  const rows: Array<[string, Fit]> = [
    ['chars 1000/150', fit(corpus, minilm, (t) => splitText(t, { size: 1000, overlap: 150 }))],
    [`minilm tokens ${MINILM_TOKENIZER.defaultSize}/${MINILM_TOKENIZER.defaultOverlap}`, fit(corpus, minilm, (t) => splitText(t, tokensOptions(MINILM_TOKENIZER, minilm)))],
  ];
  const base = rows[0][1];
  console.log(`\nfit in all-MiniLM-L6-v2's ${MINILM_WINDOW}-token window: ${corpus.length} documents, chunks embedded with their "title > heading: " context`);
  console.log(`${'sizing'.padEnd(24)} ${'chunks'.padStart(7)} ${'x base'.padStart(7)} ${'mean chars'.padStart(10)} ${'mean tok'.padStart(9)} ${'max tok'.padStart(8)} ${'> 256'.padStart(12)} ${'content > 256'.padStart(14)}`);
  for (const [name, f] of rows) {
    console.log(
      `${name.padEnd(24)} ${String(f.chunks).padStart(7)} ${(f.chunks / base.chunks).toFixed(2).padStart(7)} ${(f.chars / f.chunks).toFixed(0).padStart(10)} ` +
        `${(f.tokens / f.chunks).toFixed(0).padStart(9)} ${String(f.maxTokens).padStart(8)} ` +
        `${`${f.over} (${((100 * f.over) / f.chunks).toFixed(1)}%)`.padStart(12)} ${`${f.overContent} (${((100 * f.overContent) / f.chunks).toFixed(1)}%)`.padStart(14)}`,
    );
  }
  console.log('(tokens counted as the model reads them: context + content + [CLS] + [SEP]; "content > 256": the chunk alone already passes the window)');
}

function main(): void {
  const i = process.argv.indexOf('--repeat');
  const repeat = i >= 0 ? Number(process.argv[i + 1]) : 7;
  const corpus = loadCorpus();
  speed(corpus.map((d) => d.content).join('\n\n'), repeat);
  window(corpus);
}

main();
