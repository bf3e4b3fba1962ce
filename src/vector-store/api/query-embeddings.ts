import { Injectable } from '@nestjs/common';
import { EmbedderRegistry, GenerationModel } from '../../embedding/embedder-registry';
import { embeddingRequests, embeddingTexts } from '../../observability/metrics/service-metrics';

/** Query vectors kept per process: enough for the repeated queries of a busy deployment, a few MB at 384 dimensions. */
const CAPACITY = 2000;

/**
 * The vector of a search query in a generation's model, remembered for the most recent
 * CAPACITY queries, so a repeated query skips the model (tens of milliseconds with the
 * local model on two cores). Keyed by generation: a switch of model never serves an old vector.
 */
@Injectable()
export class QueryEmbeddings {
  // A Map keeps insertion order: re-inserting on a hit makes the first key the least recently used.
  private readonly vectors = new Map<string, Promise<number[]>>();

  constructor(private readonly embedders: EmbedderRegistry) {}

  embed(generation: GenerationModel, query: string): Promise<number[]> {
    const key = `${generation.id}\u0000${query}`;
    let vector = this.vectors.get(key);
    if (vector) {
      this.vectors.delete(key);
    } else {
      vector = this.embedders.providerFor(generation).then(async (p) => {
        embeddingRequests.inc({ model: p.modelId, kind: 'query' });
        embeddingTexts.inc({ model: p.modelId, kind: 'query' });
        return (await p.embed([query]))[0];
      });
      // A failure is not remembered: the next identical query asks the model again.
      vector.catch(() => this.vectors.delete(key));
      if (this.vectors.size >= CAPACITY) this.vectors.delete(this.vectors.keys().next().value as string);
    }
    this.vectors.set(key, vector);
    return vector;
  }

  /** Queries remembered now. */
  get size(): number {
    return this.vectors.size;
  }
}
