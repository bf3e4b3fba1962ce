import { createHash } from 'node:crypto';
import type { AppConfig } from '../config/app-config';

/** Unit of a document's chunk size and overlap. */
export type ChunkUnit = 'chars' | 'tokens';

/**
 * Everything that decides which chunks a document's text turns into. The embedding model is not part of it:
 * workers embed with the active generation's model, whatever the API that took the document is configured
 * with, and each chunk records the model that embedded it.
 */
export interface PipelineConfig {
  /** Largest chunk, in `chunkUnit`. */
  chunkSize: number;
  /** Most text repeated from one chunk to the next, in `chunkUnit`. */
  chunkOverlap: number;
  /** Characters (UTF-16 units) or tokens of `tokenizer` (absent on older rows: chars). */
  chunkUnit?: ChunkUnit;
  /** The tokenizer that measures chunks (`Tokenizer.id`) when `chunkUnit` is tokens. */
  tokenizer?: string;
  /**
   * @deprecated Only on rows stored before the model left the pipeline: the model the accepting API process was
   * configured with, which need not be the one that embedded the chunks. Never written now, never read, not
   * hashed; the model of a document's vectors is on its chunks.
   */
  model?: string;
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
 * Short stable hash of a pipeline config: equal text + equal hash means equal chunks. It reads only the fields
 * that shape chunks, so a stored config that still carries a `model` hashes like one without. Sizes in
 * characters hash with the same fields as before units existed; sizes in tokens add the unit and the tokenizer.
 */
export function pipelineHash(p: PipelineConfig): string {
  const fields: unknown[] = [p.chunkSize, p.chunkOverlap, p.contextual ?? false, p.splitter ?? 1];
  if (p.chunkUnit === 'tokens') fields.push('tokens', p.tokenizer ?? null);
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex').slice(0, 16);
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
