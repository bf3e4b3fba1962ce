import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DocumentFile, TEXT_TYPES } from './document-files';
import { followDocument } from './follow-document';
import { Accepted, ApiError, IngestClient } from './ingest-client';
import { StoredFile, storedFiles } from './stored-files';

/** Where one file ended up. `queued` only without `--wait` (or past its timeout). */
export type Outcome = 'ready' | 'deduplicated' | 'queued' | 'processing' | 'failed';

export interface FileResult {
  file: string;
  outcome: Outcome;
  documentId?: string;
  reason?: string;
}

export interface AddOptions {
  namespace?: string;
  metadata?: Record<string, unknown>;
  concurrency: number;
  wait: boolean;
  timeoutMs: number;
}

/** Progress callbacks, for the bars. */
export interface AddProgress {
  sent(result: FileResult): void;
  settled(result: FileResult): void;
}

/**
 * Sends every file that changed (relative path as externalId: a file whose bytes the
 * namespace already holds, not failed, is not sent again) with `concurrency` requests at
 * once, and with `wait` follows each to ready or failed.
 */
export async function addDocuments(client: IngestClient, files: DocumentFile[], options: AddOptions, progress: AddProgress): Promise<FileResult[]> {
  const uploads: UploadMode = { uploadsRefused: false, stored: await storedFiles(client, options.namespace) };
  const results: FileResult[] = new Array(files.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < files.length) {
      const i = next++;
      results[i] = await addOne(client, files[i], options, uploads, progress);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, files.length)) }, lane));
  return results;
}

async function addOne(client: IngestClient, file: DocumentFile, options: AddOptions, uploads: UploadMode, progress: AddProgress): Promise<FileResult> {
  let accepted: Accepted;
  try {
    const bytes = await readFile(file.absolutePath);
    const held = uploads.stored.get(file.relativePath);
    if (held && held.status !== 'failed' && held.sha256 === createHash('sha256').update(bytes).digest('hex')) {
      const unchanged: FileResult = { file: file.relativePath, outcome: 'deduplicated', reason: 'unchanged: not sent' };
      progress.sent(unchanged);
      progress.settled(unchanged);
      return unchanged;
    }
    accepted = await send(client, file, bytes, options, uploads);
  } catch (err) {
    const result: FileResult = { file: file.relativePath, outcome: 'failed', reason: reasonOf(err) };
    progress.sent(result);
    progress.settled(result);
    return result;
  }
  const sent: FileResult = { file: file.relativePath, outcome: accepted.deduplicated ? 'deduplicated' : 'queued', documentId: accepted.id };
  progress.sent(sent);
  if (accepted.deduplicated || !options.wait) {
    progress.settled(sent);
    return sent;
  }
  try {
    const d = await followDocument(client, accepted.id, accepted.version, { timeoutMs: options.timeoutMs });
    const done: FileResult =
      d.status === 'ready'
        ? { ...sent, outcome: 'ready' }
        : d.status === 'failed'
          ? { ...sent, outcome: 'failed', reason: d.lastError ?? 'failed' }
          : { ...sent, outcome: 'processing', reason: `still ${d.status} after ${Math.round(options.timeoutMs / 1000)} s` };
    progress.settled(done);
    return done;
  } catch (err) {
    const lost: FileResult = { ...sent, outcome: 'failed', reason: `while waiting: ${reasonOf(err)}` };
    progress.settled(lost);
    return lost;
  }
}

/**
 * Files go up as multipart uploads. A server that does not take uploads answers 415
 * (or, reading no JSON body, 400 about `content`): text files are then posted as JSON.
 * Once the server has shown it takes JSON but not uploads, the rest go as JSON at once.
 */
interface UploadMode {
  uploadsRefused: boolean;
  /** What the namespace already holds, by externalId. */
  stored: Map<string, StoredFile>;
}

async function send(client: IngestClient, file: DocumentFile, bytes: Buffer, options: AddOptions, mode: UploadMode): Promise<Accepted> {
  const isText = TEXT_TYPES.has(file.extension);
  let refused = false;
  if (!(mode.uploadsRefused && isText)) {
    try {
      return await client.upload({
        file: { name: path.basename(file.relativePath), bytes, contentType: file.contentType },
        externalId: file.relativePath,
        namespace: options.namespace,
        metadata: options.metadata,
      });
    } catch (err) {
      if (!(isText && refusesUploads(err))) throw err;
      refused = true;
    }
  }
  const accepted = await client.postText({
    content: bytes.toString('utf8'),
    externalId: file.relativePath,
    title: path.basename(file.relativePath),
    namespace: options.namespace,
    metadata: options.metadata,
  });
  if (refused) mode.uploadsRefused = true;
  return accepted;
}

function refusesUploads(err: unknown): boolean {
  return err instanceof ApiError && (err.status === 415 || (err.status === 400 && /\bcontent\b/.test(err.message) && !/\bfile\b/.test(err.message)));
}

function reasonOf(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return err instanceof Error ? `${err.message}${cause}` : String(err);
}
