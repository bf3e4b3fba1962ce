import { EmbeddingProvider } from '../../src/embedding/embedding-provider';
import { EmbeddingError } from '../../src/embedding/embedding.errors';
import { HashEmbeddingProvider } from '../../src/embedding/hash-embedding.provider';

export type Fault = 'transient' | 'permanent' | undefined;

/**
 * A real (hash) embedder whose calls a test can make fail or slow down, the way a model
 * server does: `fault` decides per call from the texts and the call count.
 */
export class ScriptedEmbedder implements EmbeddingProvider {
  private readonly inner = new HashEmbeddingProvider(384);
  readonly dimension = 384;
  readonly modelId = this.inner.modelId;
  calls = 0;
  /** Texts received over all calls, failed ones included. */
  texts = 0;
  fault: (texts: string[], call: number) => Fault = () => undefined;
  delayMs = 0;

  async embed(texts: string[]): Promise<number[][]> {
    const call = ++this.calls;
    this.texts += texts.length;
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    const fault = this.fault(texts, call);
    if (fault === 'transient') throw new EmbeddingError('upstream answered 503 (scripted)', true);
    if (fault === 'permanent') throw new EmbeddingError('upstream answered 400: input rejected (scripted)', false);
    return this.inner.embed(texts);
  }
}
