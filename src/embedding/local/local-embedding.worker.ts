/**
 * Worker-thread entry: owns one LocalEmbeddingEngine (and so the ONNX Runtime
 * session and its intra-op threads), so inference never blocks the event loop of
 * the thread that serves HTTP. Protocol (see local-embedding.provider.ts):
 *   in : { type: 'embed', id, texts } | { type: 'close' }
 *   out: { type: 'ready', dimension } | { type: 'init-error', message }
 *        { type: 'result', id, vectors: Float32Array (transferred) } | { type: 'error', id, message }
 * Init options arrive as workerData.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { LocalEmbeddingEngine, type LocalEngineOptions } from './local-embedding.engine';

export type WorkerRequest = { type: 'embed'; id: number; texts: string[] } | { type: 'close' };
export type WorkerResponse =
  | { type: 'ready'; dimension: number }
  | { type: 'init-error'; message: string }
  | { type: 'result'; id: number; vectors: Float32Array }
  | { type: 'error'; id: number; message: string };

function main(): void {
  const port = parentPort;
  if (!port) return; // imported outside a worker: nothing to do
  const post = (msg: WorkerResponse, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);
  const options = ((workerData as { options?: LocalEngineOptions } | null)?.options ?? {}) as LocalEngineOptions;

  const enginePromise = LocalEmbeddingEngine.load(options);
  let queue: Promise<unknown> = Promise.resolve();

  enginePromise.then(
    (engine) => post({ type: 'ready', dimension: engine.dimension }),
    (err: unknown) => {
      post({ type: 'init-error', message: err instanceof Error ? err.message : String(err) });
      port.close();
    },
  );

  port.on('message', (msg: WorkerRequest) => {
    if (msg.type === 'close') {
      queue = queue
        .then(() => enginePromise)
        .then((e) => e.close())
        .catch(() => undefined)
        .finally(() => port.close());
      return;
    }
    if (msg.type === 'embed') {
      // One ONNX run at a time: the session already uses all intra-op threads.
      queue = queue.then(async () => {
        try {
          const engine = await enginePromise;
          const vectors = await engine.embed(msg.texts);
          post({ type: 'result', id: msg.id, vectors }, [vectors.buffer as ArrayBuffer]);
        } catch (err) {
          post({ type: 'error', id: msg.id, message: err instanceof Error ? err.message : String(err) });
        }
      });
    }
  });
}

main();
