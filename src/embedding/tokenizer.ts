import type { EmbeddingProviderName } from '../config/app-config';

/** Counts tokens the way an embedding model reads a text. */
export interface Tokenizer {
  /** Stable name, recorded in each document's pipeline config (e.g. `cl100k_base`). */
  readonly id: string;
  /** Tokens in `text`, without the special tokens a model adds around every input ([CLS], [SEP]). */
  count(text: string): number;
}

/** What the service knows of a model's tokenizer, before loading it. */
export interface TokenizerSpec {
  id: string;
  /** Most tokens the model reads from one input, besides its special tokens; the rest is cut off. */
  maxTokens: number;
  /** Default CHUNK_SIZE_TOKENS and CHUNK_OVERLAP_TOKENS for this tokenizer. */
  defaultSize: number;
  defaultOverlap: number;
}

/**
 * all-MiniLM-L6-v2's BERT WordPiece (uncased) tokenizer. The model reads 256 tokens,
 * [CLS] and [SEP] included. The default size leaves room for the "title > heading: "
 * prefix of contextual chunks (at most 49 tokens on bench/retrieval/corpora/nodejs, p99 42).
 */
export const MINILM_TOKENIZER: TokenizerSpec = { id: 'wordpiece:all-MiniLM-L6-v2', maxTokens: 254, defaultSize: 200, defaultOverlap: 30 };

/**
 * OpenAI's cl100k_base BPE, used by text-embedding-3-small/-large and ada-002 (8191 tokens
 * each). 256 tokens is about 1000 characters of English (CHUNK_SIZE's default).
 */
export const CL100K_TOKENIZER: TokenizerSpec = { id: 'cl100k_base', maxTokens: 8191, defaultSize: 256, defaultOverlap: 40 };

const OPENAI_MODELS: ReadonlyMap<string, TokenizerSpec> = new Map([
  ['text-embedding-3-small', CL100K_TOKENIZER],
  ['text-embedding-3-large', CL100K_TOKENIZER],
  ['text-embedding-ada-002', CL100K_TOKENIZER],
]);

/** Models whose tokenizer is known, for error messages. */
export const KNOWN_TOKENIZER_MODELS = ['local (all-MiniLM-L6-v2)', ...[...OPENAI_MODELS.keys()].map((m) => `openai ${m}`)];

/**
 * The tokenizer of a configured provider and model, or null when it is not known (the
 * hash provider, and any model served through the OpenAI-compatible API other than
 * OpenAI's own embedding models: Ollama, TEI, vLLM, Azure deployment names…).
 */
export function tokenizerSpecFor(provider: EmbeddingProviderName, model: string | undefined): TokenizerSpec | null {
  if (provider === 'local') return MINILM_TOKENIZER;
  if (provider === 'openai' && model !== undefined) return OPENAI_MODELS.get(model) ?? null;
  return null;
}

/** The tokenizer of the model behind a provider's `modelId` (`local:…`, `openai:<model>`), or null. */
export function tokenizerSpecForModelId(modelId: string): TokenizerSpec | null {
  if (modelId.startsWith('local:')) return MINILM_TOKENIZER;
  if (modelId.startsWith('openai:')) return OPENAI_MODELS.get(modelId.slice('openai:'.length)) ?? null;
  return null;
}

const loaded = new Map<string, Tokenizer>();

/**
 * The tokenizer named `id`, loaded on first use and then shared by the whole process.
 * Both run on the calling thread and need no network: the WordPiece vocabulary comes
 * from the model package, the cl100k ranks from the `gpt-tokenizer` package.
 * Throws for an id this build does not know.
 */
export function loadTokenizer(id: string): Tokenizer {
  let tokenizer = loaded.get(id);
  if (tokenizer === undefined) {
    tokenizer = createTokenizer(id);
    loaded.set(id, tokenizer);
  }
  return tokenizer;
}

// The modules are required on first use: the API process and the configuration never
// pay for the vocabularies (cl100k's ranks take ~60 ms and tens of MB to load).
function createTokenizer(id: string): Tokenizer {
  switch (id) {
    case MINILM_TOKENIZER.id: {
      const { MiniLmTokenizer } = require('./local/minilm.tokenizer') as typeof import('./local/minilm.tokenizer');
      const { resolveModelFiles } = require('./local/model-files') as typeof import('./local/model-files');
      const wordpiece = MiniLmTokenizer.fromFile(resolveModelFiles().tokenizer);
      return { id, count: (text) => wordpiece.count(text) };
    }
    case CL100K_TOKENIZER.id: {
      const bpe = require('gpt-tokenizer/cjs/encoding/cl100k_base') as typeof import('gpt-tokenizer/cjs/encoding/cl100k_base');
      // Special-token markers in a document are plain text to the embeddings API, not controls.
      const options = { disallowedSpecial: new Set<string>() };
      return { id, count: (text) => bpe.countTokens(text, options) };
    }
    default:
      throw new Error(`unknown tokenizer "${id}" (known: ${MINILM_TOKENIZER.id}, ${CL100K_TOKENIZER.id})`);
  }
}
