import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { ChunkRepository, ChunkToWrite, DocumentChunks } from '../chunk.repository';
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

  /**
   * Holds each generation until the transaction ends; throws `GenerationChangedError` if
   * one changed. `before`: statements without parameters sent ahead of the first lock, in its round trip.
   */
  async hold(em: EntityManager, generations: Generation[], before: string[] = []): Promise<void> {
    for (const [i, generation] of generations.entries()) await this.lock.hold(em, generation, i === 0 ? before : []);
  }

  /**
   * Replaces the document's chunks in each generation (held by `hold`), stamped with the
   * model that embedded them; a building generation records the document as held at
   * `coveredVersion` (its version, or NOT_READY_COPY).
   */
  async replace(em: EntityManager, doc: { id: string; namespace: string }, coveredVersion: number, writes: GenerationChunks[]): Promise<void> {
    await this.replaceMany(em, [{ doc, coveredVersion, writes }]);
  }

  /**
   * `replace` for several documents (each id once), one generation at a time, so each
   * chunk table gets one DELETE and as few INSERTs as the rows allow.
   */
  async replaceMany(em: EntityManager, docs: Array<{ doc: { id: string; namespace: string }; coveredVersion: number; writes: GenerationChunks[] }>): Promise<void> {
    const byGeneration = new Map<number, { generation: Generation; docs: DocumentChunks[]; covered: Array<{ id: string; version: number }> }>();
    for (const { doc, coveredVersion, writes } of docs) {
      for (const w of writes) {
        let entry = byGeneration.get(w.generation.id);
        if (!entry) byGeneration.set(w.generation.id, (entry = { generation: w.generation, docs: [], covered: [] }));
        entry.docs.push({ documentId: doc.id, namespace: doc.namespace, model: w.modelId, chunks: w.chunks });
        entry.covered.push({ id: doc.id, version: coveredVersion });
      }
    }
    for (const { generation, docs: chunks, covered } of byGeneration.values()) {
      await this.chunks.replaceChunksOfMany(em, chunkTableOf(generation), chunks);
      if (generation.status === 'building') {
        for (const c of covered) await this.coverage.recordCovered(em, generation.id, c.id, c.version);
      }
    }
  }
}
