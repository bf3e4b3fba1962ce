import type { Worker } from 'node:worker_threads';
import { startWorkerThread } from '../../common/worker-thread';
import { PermanentIngestError } from '../../ingest/ingest-errors';
import type { ExtractedText, ExtractionReply, ExtractionRequest } from '../extracted-text';

export interface ExtractionLimits {
  timeoutMs: number;
  memoryMb: number;
}

/**
 * Extracts a file's text in a thread of its own, started for this file and ended after
 * it: stopped when it runs past `timeoutMs`, killed by V8 when its heap passes
 * `memoryMb`. Those, and a file the thread cannot read, fail the document for good
 * (PermanentIngestError); the thread dying any other way is an error worth a retry.
 * `data` is transferred to the thread and unusable afterwards.
 */
export function extractInThread(request: ExtractionRequest, limits: ExtractionLimits): Promise<ExtractedText> {
  const thread: Worker = startWorkerThread(__filename, 'extraction.thread', {
    resourceLimits: { maxOldGenerationSizeMb: limits.memoryMb, maxYoungGenerationSizeMb: Math.min(64, Math.ceil(limits.memoryMb / 8)) },
    stdout: true, // a parser's console warnings stay out of the service's logs
    stderr: true,
  });
  thread.stdout.resume();
  thread.stderr.resume();
  return new Promise<ExtractedText>((resolve, reject) => {
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
      void thread.terminate();
    };
    const timer = setTimeout(
      () => settle(() => reject(new PermanentIngestError('extract_timeout', `text extraction took longer than ${limits.timeoutMs} ms (EXTRACT_TIMEOUT_MS) and was stopped`))),
      limits.timeoutMs,
    );
    thread.once('message', (reply: ExtractionReply) =>
      settle(() => (reply.ok ? resolve(reply.extracted) : reject(new PermanentIngestError('unreadable_file', reply.message)))),
    );
    thread.once('error', (err: Error & { code?: string }) =>
      settle(() =>
        reject(
          err.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new PermanentIngestError('extract_out_of_memory', `text extraction needed more than ${limits.memoryMb} MB (EXTRACT_MEMORY_MB) and was stopped`)
            : err,
        ),
      ),
    );
    thread.once('exit', (code) => settle(() => reject(new Error(`the extraction thread exited (code ${code}) without an answer`))));
    thread.postMessage(request, [request.data.buffer as ArrayBuffer]);
  });
}
