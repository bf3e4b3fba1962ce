import { createHash } from 'node:crypto';
import type { AppConfig } from '../config/app-config';

/** Unit of a document's chunk size and overlap. */
export type ChunkUnit = 'chars' | 'tokens';

/** Everything that decides which chunks and vectors a document's text turns into. */
export interface PipelineConfig {
  /** Largest chunk, in `chunkUnit`. */
  chunkSize: number;
  /** Most text repeated from one chunk to the next, in `chunkUnit`. */
  chunkOverlap: number;
  /** Characters (UTF-16 units) or tokens of `tokenizer` (absent on older rows: chars). */
  chunkUnit?: ChunkUnit;
  /** The tokenizer that measures chunks (`Tokenizer.id`) when `chunkUnit` is tokens. */
  tokenizer?: string;
  model: string;
  /** Chunks embedded with their title and heading path in front (absent on older rows: false). */
  contextual?: boolean;
  /** Version of the chunking algorithm (`SPLITTER_VERSION`; absent on older rows: 1). */
  splitter?: number;
}

/**
 * The chunking part of a new document's pipeline: the configured unit and sizes, or the
 * request's own `chunking`, which is in characters (its overlap defaulting to
 * CHUNK_OVERLAP, at most half the size). Does not check that overlap < size.
 */
export function chunkingFor(
  config: AppConfig['chunking'],
  requested?: { size: number; overlap?: number },
): Pick<PipelineConfig, 'chunkSize' | 'chunkOverlap' | 'chunkUnit' | 'tokenizer'> {
  if (requested === undefined && config.unit === 'tokens' && config.tokenizer !== null) {
    return { chunkSize: config.sizeTokens, chunkOverlap: config.overlapTokens, chunkUnit: 'tokens', tokenizer: config.tokenizer };
  }
  const size = requested?.size ?? config.size;
  const overlap = requested?.overlap ?? Math.min(config.overlap, Math.floor(size / 2));
  return { chunkSize: size, chunkOverlap: overlap, chunkUnit: 'chars' };
}

/**
 * Short stable hash of a pipeline config: equal text + equal hash means equal output.
 * Sizes in characters hash as they did before units existed, so documents stored then
 * still match; sizes in tokens add the unit and the tokenizer.
 */
export function pipelineHash(p: PipelineConfig): string {
  const fields: unknown[] = [p.chunkSize, p.chunkOverlap, p.model, p.contextual ?? false, p.splitter ?? 1];
  if (p.chunkUnit === 'tokens') fields.push('tokens', p.tokenizer ?? null);
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex').slice(0, 16);
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
