import type { ChunkUnit } from '../documents/pipeline';
import { KNOWN_TOKENIZER_MODELS, tokenizerSpecFor } from '../embedding/tokenizer';
import type { EmbeddingProviderName } from './embedding.config';
import type { EnvReader } from './env-reader';

/** How new documents are chunked. */
export interface ChunkingConfig {
  /** Unit new documents are chunked in: CHUNK_UNIT, with `auto` resolved (tokens when the model's tokenizer is known). */
  unit: ChunkUnit;
  /** Id of the tokenizer that measures chunks when `unit` is tokens, else null. */
  tokenizer: string | null;
  /** Chunk size and overlap in characters (CHUNK_SIZE, CHUNK_OVERLAP), also the unit of a request's own `chunking`. */
  size: number;
  overlap: number;
  /** Chunk size and overlap in tokens (CHUNK_SIZE_TOKENS, CHUNK_OVERLAP_TOKENS). */
  sizeTokens: number;
  overlapTokens: number;
  /** Prefix each chunk's embedded and keyword-indexed text with its title and heading path (CONTEXTUAL_CHUNKS). */
  contextual: boolean;
}

/** Every chunking setting but CONTEXTUAL_CHUNKS, which loadConfig reads later. */
export type ChunkSizes = Omit<ChunkingConfig, 'contextual'>;

/** CHUNK_SIZE and CHUNK_OVERLAP (characters), then the unit and the token sizes for the chosen model. */
export function readChunkSizes(r: EnvReader, provider: EmbeddingProviderName, model: string | undefined): ChunkSizes {
  const size = r.int('CHUNK_SIZE', 1000, 50, 100000);
  const overlap = r.int('CHUNK_OVERLAP', 150, 0, 100000);
  if (overlap >= size) r.fail('CHUNK_OVERLAP', `must be smaller than CHUNK_SIZE (${size})`);
  return { ...readTokenChunking(r, provider, model), size, overlap };
}

/**
 * CHUNK_UNIT and the token sizes. `auto` (the default) sizes chunks in tokens when the
 * model's tokenizer is known and in characters otherwise; `tokens` with no known
 * tokenizer is refused. The token sizes default to the tokenizer's own (the overlap to
 * at most half the size) and may not exceed what the model reads at once.
 */
function readTokenChunking(
  r: EnvReader,
  provider: EmbeddingProviderName,
  model: string | undefined,
): Pick<ChunkingConfig, 'unit' | 'tokenizer' | 'sizeTokens' | 'overlapTokens'> {
  const wanted = r.oneOf('CHUNK_UNIT', ['auto', 'tokens', 'chars'] as const, 'auto');
  const spec = tokenizerSpecFor(provider, model);
  if (wanted === 'tokens' && spec === null) {
    const which = provider === 'openai' ? `model ${model ?? '(none)'}` : `the ${provider} provider`;
    r.fail('CHUNK_UNIT', `tokens needs a known tokenizer, and ${which} has none (known: ${KNOWN_TOKENIZER_MODELS.join(', ')}); use auto or chars`);
  }
  const sizeTokens = r.int('CHUNK_SIZE_TOKENS', spec?.defaultSize ?? 200, 16, 100000);
  if (spec !== null && sizeTokens > spec.maxTokens) {
    r.fail('CHUNK_SIZE_TOKENS', `the model reads at most ${spec.maxTokens} tokens of one text (tokenizer ${spec.id}): larger chunks would be cut off`);
  }
  const overlapTokens = r.int('CHUNK_OVERLAP_TOKENS', Math.min(spec?.defaultOverlap ?? 30, Math.floor(sizeTokens / 2)), 0, 100000);
  if (overlapTokens >= sizeTokens) r.fail('CHUNK_OVERLAP_TOKENS', `must be smaller than CHUNK_SIZE_TOKENS (${sizeTokens})`);
  const tokens = wanted !== 'chars' && spec !== null;
  return { unit: tokens ? 'tokens' : 'chars', tokenizer: tokens ? spec.id : null, sizeTokens, overlapTokens };
}
