import { createHash } from 'node:crypto';

/** Everything that decides which chunks and vectors a document's text turns into. */
export interface PipelineConfig {
  chunkSize: number;
  chunkOverlap: number;
  model: string;
  /** Chunks embedded with their title and heading path in front (absent on older rows: false). */
  contextual?: boolean;
  /** Version of the chunking algorithm (`SPLITTER_VERSION`; absent on older rows: 1). */
  splitter?: number;
}

/** Short stable hash of a pipeline config: equal text + equal hash means equal output. */
export function pipelineHash(p: PipelineConfig): string {
  const canonical = JSON.stringify([p.chunkSize, p.chunkOverlap, p.model, p.contextual ?? false, p.splitter ?? 1]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
