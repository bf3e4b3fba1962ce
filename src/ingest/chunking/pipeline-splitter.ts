import { PipelineConfig } from '../../documents/pipeline';
import { Tokenizer, loadTokenizer } from '../../embedding/tokenizer';
import { SplitOptions, TextChunk, splitText } from './text-splitter';

/**
 * Most characters one token may stand for when sizing a chunk. Real text runs 3–5 per
 * token; this only bounds the runs a tokenizer reads as a handful of tokens (WordPiece
 * turns a word of more than 100 characters into one [UNK]; cl100k reads 1000 spaces as
 * 9 tokens), which would otherwise make chunks of any length.
 */
export const MAX_CHARS_PER_TOKEN = 16;

/**
 * A chunk size measure in tokens of `tokenizer`: its count, but never less than
 * 1/MAX_CHARS_PER_TOKEN of the text's length, so a chunk of `size` tokens also holds at
 * most 16 × `size` characters. A chunk measured at n never has more than n tokens.
 */
export function tokenMeasure(tokenizer: Tokenizer): (text: string) => number {
  return (text) => Math.max(tokenizer.count(text), Math.ceil(text.length / MAX_CHARS_PER_TOKEN));
}

/**
 * Splits a document's text as its pipeline config says: `chunkSize`/`chunkOverlap` in
 * characters, or in tokens of the tokenizer the config names (a document recorded
 * before units existed is in characters). `tokenizers` finds a tokenizer by id (the
 * shared, lazily loaded ones by default). Throws when the config names a tokenizer
 * this build does not know.
 */
export function splitForPipeline(
  text: string,
  pipeline: PipelineConfig,
  tokenizers: (id: string) => Tokenizer = loadTokenizer,
): TextChunk[] {
  const options: SplitOptions = { size: pipeline.chunkSize, overlap: pipeline.chunkOverlap };
  if (pipeline.chunkUnit === 'tokens') {
    if (pipeline.tokenizer === undefined) throw new Error('the pipeline sizes chunks in tokens but names no tokenizer');
    options.measure = tokenMeasure(tokenizers(pipeline.tokenizer));
  }
  return splitText(text, options);
}
