/**
 * Entry of the extraction thread: extracts one file's text and answers once. It runs
 * apart from the worker's event loop, under a heap limit, and is stopped if it takes too
 * long, so a hostile or pathological file can neither block nor exhaust the process.
 */
import { parentPort } from 'node:worker_threads';
import { THREAD_READY, type ExtractionReply, type ExtractionRequest } from '../extracted-text';
import { UnreadableFileError, extractText } from './extract-text';

const port = parentPort;
if (!port) throw new Error('extraction.thread must run in a worker thread');

port.once('message', (request: ExtractionRequest) => {
  extractText(request.mimeType, request.data).then(
    (extracted) => port.postMessage({ ok: true, extracted } satisfies ExtractionReply),
    (err: unknown) => {
      // Anything a parser throws on these bytes says the file is bad, not that trying again would help.
      const message = err instanceof UnreadableFileError ? err.message : `the file could not be read: ${err instanceof Error ? err.message : String(err)}`;
      port.postMessage({ ok: false, kind: 'unreadable', message } satisfies ExtractionReply);
    },
  );
});
port.postMessage(THREAD_READY);
