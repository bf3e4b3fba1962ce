import type { EnvReader } from './env-reader';

/** File uploads and the worker's text extraction. */
export interface FilesConfig {
  /** Largest file accepted by a multipart `POST /v1/documents`, in bytes. */
  uploadLimitBytes: number;
  /** Time one file's extraction may take before its thread is stopped. */
  extractTimeoutMs: number;
  /** Heap of the extraction thread (V8 old generation), in megabytes. */
  extractMemoryMb: number;
}

/** UPLOAD_LIMIT_BYTES and EXTRACT_* settings. */
export function readFiles(r: EnvReader): FilesConfig {
  return {
    uploadLimitBytes: r.int('UPLOAD_LIMIT_BYTES', 100 * 1024 * 1024, 1024, 2 * 1024 * 1024 * 1024 - 1),
    extractTimeoutMs: r.int('EXTRACT_TIMEOUT_MS', 120000, 1, 3600000),
    extractMemoryMb: r.int('EXTRACT_MEMORY_MB', 512, 32, 16384),
  };
}
