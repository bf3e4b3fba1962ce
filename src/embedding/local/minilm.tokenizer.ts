import { readFileSync } from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';

/** A batch ready for the encoder: row-major int64 [batch, seq] ids and mask. */
export interface TokenBatch {
  batch: number;
  seqLen: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
}

/** Words whose token count `count` keeps (then starts again): a few MB at most. */
const WORD_COUNT_CACHE = 50_000;

/**
 * WordPiece tokenizer for all-MiniLM-L6-v2 built from the shipped tokenizer.json.
 * The file pins truncation and padding to 128; both are switched off here. Instead
 * each text is cut to `maxLength` tokens (256, the length the sentence-transformers
 * model was trained with) keeping [CLS] … [SEP], and batches are padded to their
 * longest member.
 */
export class MiniLmTokenizer {
  private readonly tokenizer: Tokenizer;
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  /** Tokens per word, for `count`. */
  private readonly wordCounts = new Map<string, number>();

  constructor(tokenizerJson: Record<string, unknown>, readonly maxLength = 256) {
    if (maxLength < 2) throw new Error('maxLength must be at least 2');
    const json = { ...tokenizerJson, truncation: null, padding: null };
    this.tokenizer = new Tokenizer(json, {});
    const id = (tok: string): number => {
      const v = this.tokenizer.token_to_id(tok);
      if (v === undefined) throw new Error(`tokenizer has no ${tok} token`);
      return v;
    };
    this.clsId = id('[CLS]');
    this.sepId = id('[SEP]');
    this.padId = id('[PAD]');
  }

  static fromFile(file: string, maxLength = 256): MiniLmTokenizer {
    return new MiniLmTokenizer(JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>, maxLength);
  }

  /** Token ids of one text: [CLS] tokens… [SEP], at most `maxLength` long. */
  encode(text: string): number[] {
    const ids = this.tokenizer.encode(text, { add_special_tokens: false }).ids;
    const body = ids.length > this.maxLength - 2 ? ids.slice(0, this.maxLength - 2) : ids;
    return [this.clsId, ...body, this.sepId];
  }

  /**
   * Tokens the model reads for `text`, without [CLS] and [SEP] and without truncation:
   * the same WordPiece pass as `encode`, so a text counted at n tokens here is embedded
   * whole when n + 2 <= `maxLength`.
   */
  count(text: string): number {
    // WordPiece never makes a token across white space (the normaliser and pre-tokenizer
    // act within words), so a text's count is the sum of its words' counts, and the
    // splitter, which measures overlapping spans of one document many times, meets the
    // same words again and again.
    let n = 0;
    for (const word of text.split(/[ \t\n\r]+/)) {
      if (word === '') continue;
      let c = this.wordCounts.get(word);
      if (c === undefined) {
        c = this.tokenizer.encode(word, { add_special_tokens: false }).ids.length;
        if (this.wordCounts.size >= WORD_COUNT_CACHE) this.wordCounts.clear();
        this.wordCounts.set(word, c);
      }
      n += c;
    }
    return n;
  }

  /** Pads already-encoded sequences to the longest one. */
  pad(sequences: number[][]): TokenBatch {
    const batch = sequences.length;
    const seqLen = sequences.reduce((m, s) => Math.max(m, s.length), 0);
    const inputIds = new BigInt64Array(batch * seqLen).fill(BigInt(this.padId));
    const attentionMask = new BigInt64Array(batch * seqLen);
    sequences.forEach((seq, b) => {
      for (let i = 0; i < seq.length; i++) {
        inputIds[b * seqLen + i] = BigInt(seq[i]);
        attentionMask[b * seqLen + i] = 1n;
      }
    });
    return { batch, seqLen, inputIds, attentionMask };
  }
}
