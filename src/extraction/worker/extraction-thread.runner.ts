import type { Worker } from 'node:worker_threads';
import { startWorkerThread } from '../../common/worker-thread';
import { PermanentIngestError } from '../../ingest/ingest-errors';
import { THREAD_READY, type ExtractedText, type ExtractionReply, type ExtractionRequest } from '../extracted-text';

export interface ExtractionLimits {
  timeoutMs: number;
  memoryMb: number;
}

/** Longest a thread may take to load its parsers; past it something is wrong with the process, not the file. */
const STARTUP_TIMEOUT_MS = 60000;

/**
 * Extracts a file's text in a thread of its own, started for this file and ended after
 * it: stopped when the extraction runs past `timeoutMs` (counted from when the thread has
 * loaded its parsers and is handed the file), killed by V8 when its heap passes `memoryMb`. Those, and a file the thread cannot read, fail the document for good
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
    let timer = setTimeout(() => settle(() => reject(new Error(`the extraction thread did not start within ${STARTUP_TIMEOUT_MS} ms`))), STARTUP_TIMEOUT_MS);
    thread.on('message', (message: typeof THREAD_READY | ExtractionReply) => {
      if (message === THREAD_READY) {
        clearTimeout(timer);
        timer = setTimeout(
          () => settle(() => reject(new PermanentIngestError('extract_timeout', `text extraction took longer than ${limits.timeoutMs} ms (EXTRACT_TIMEOUT_MS) and was stopped`))),
          limits.timeoutMs,
        );
        thread.postMessage(request, [request.data.buffer as ArrayBuffer]);
        return;
      }
      settle(() => (message.ok ? resolve(message.extracted) : reject(new PermanentIngestError('unreadable_file', message.message))));
    });
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
  });
}
