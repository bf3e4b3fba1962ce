import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { ChunkRepository, ChunkToWrite } from '../chunk.repository';
import { Generation, chunkTableOf } from './generation';
import { GenerationLock } from './generation-lock';
import { ReindexCoverage } from './reindex-coverage.repository';

/** A document's chunks embedded for one generation by the model `modelId`. */
export interface GenerationChunks {
  generation: Generation;
  /** The embedder's own model id (under ALLOW_MODEL_MISMATCH it is not the generation's). */
  modelId: string;
  chunks: ChunkToWrite[];
}

/**
 * The one way a document's vectors enter a generation, for the ingest pipeline (the
 * active generation, and the building one during a re-embed) and the re-embed (the
 * building one). Used in the caller's transaction, in two steps so the caller can lock
 * the document row in between, in the order the switch takes its locks: `hold` the
 * generations, lock the document, `replace`.
 */
@Injectable()
export class GenerationWriter {
  constructor(
    private readonly lock: GenerationLock,
    private readonly chunks: ChunkRepository,
    private readonly coverage: ReindexCoverage,
  ) {}

  /** Holds each generation until the transaction ends; throws `GenerationChangedError` if one changed. */
  async hold(em: EntityManager, generations: Generation[]): Promise<void> {
    for (const generation of generations) await this.lock.hold(em, generation);
  }

  /**
   * Replaces the document's chunks in each generation (held by `hold`), stamped with the
   * model that embedded them; a building generation records the document as held at
   * `coveredVersion` (its version, or NOT_READY_COPY).
   */
  async replace(em: EntityManager, doc: { id: string; namespace: string }, coveredVersion: number, writes: GenerationChunks[]): Promise<void> {
    for (const w of writes) {
      await this.chunks.replaceChunks(em, chunkTableOf(w.generation), doc.id, doc.namespace, w.modelId, w.chunks);
      if (w.generation.status === 'building') await this.coverage.recordCovered(em, w.generation.id, doc.id, coveredVersion);
    }
  }
}
