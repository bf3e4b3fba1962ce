import { BadRequestException, PayloadTooLargeException, UnsupportedMediaTypeException } from '@nestjs/common';
import type { Request } from 'express';
import type { StorageEngine } from 'multer';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { SNIFF_BYTES, SUPPORTED_FILE_TYPES, SupportedFileType, detectFileType } from '../file-types';
import { BLOB_PART_BYTES, FileBlobRepository } from '../file-blob.repository';

/** What multer adds to `req.file` once the upload is stored. */
export interface StoredUpload {
  originalname: string;
  blobId: string;
  size: number;
  sha256: string;
  detectedType: SupportedFileType;
}

/** The multipart part as multer hands it over; busboy marks a stream cut at the size limit `truncated`. */
type IncomingFile = Pick<Express.Multer.File, 'originalname' | 'mimetype'> & { stream: Readable & { truncated?: boolean } };

/**
 * A multer storage engine that streams an upload into Postgres as it arrives, one part of
 * BLOB_PART_BYTES at a time, hashing it on the way: the API never holds a whole file. The
 * type is decided from the first bytes and the name before anything is stored, so an
 * unsupported file is refused (415) without being read to its end.
 */
export class PostgresUploadStorage implements StorageEngine {
  constructor(
    private readonly blobs: FileBlobRepository,
    private readonly limitBytes: number,
  ) {}

  _handleFile(_req: Request, file: Express.Multer.File, callback: (error?: unknown, info?: Partial<Express.Multer.File>) => void): void {
    this.store(file as IncomingFile).then(
      (stored) => callback(null, stored as Partial<Express.Multer.File>),
      (err: unknown) => callback(err),
    );
  }

  _removeFile(_req: Request, file: Express.Multer.File, callback: (error: Error | null) => void): void {
    const blobId = (file as Partial<StoredUpload>).blobId;
    if (blobId === undefined) return callback(null);
    this.blobs.delete(blobId).then(() => callback(null), (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))));
  }

  private async store(file: IncomingFile): Promise<StoredUpload> {
    const stream = file.stream;
    const hash = createHash('sha256');
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let size = 0;
    let seq = 0;
    let blobId: string | null = null;
    let detectedType: SupportedFileType | null = null;
    const flush = async (id: string, upTo: number): Promise<void> => {
      // Parts are cut at exactly BLOB_PART_BYTES so a reader can place each by its number.
      let joined = Buffer.concat(pending, pendingBytes);
      while (joined.length >= upTo && joined.length > 0) {
        const part = joined.subarray(0, Math.min(BLOB_PART_BYTES, joined.length));
        await this.blobs.appendPart(id, seq++, part);
        joined = joined.subarray(part.length);
      }
      pending = joined.length > 0 ? [joined] : [];
      pendingBytes = joined.length;
    };
    try {
      for await (const chunk of stream) {
        const bytes = chunk as Buffer;
        hash.update(bytes);
        size += bytes.length;
        pending.push(bytes);
        pendingBytes += bytes.length;
        if (detectedType === null) {
          if (pendingBytes < SNIFF_BYTES) continue;
          detectedType = this.detect(file, Buffer.concat(pending, pendingBytes));
          blobId = await this.blobs.create();
        }
        if (blobId !== null && pendingBytes >= BLOB_PART_BYTES) await flush(blobId, BLOB_PART_BYTES);
      }
      if (stream.truncated) throw new PayloadTooLargeException(`file is larger than the upload limit of ${this.limitBytes} bytes (UPLOAD_LIMIT_BYTES)`);
      if (size === 0) throw new BadRequestException(`file "${file.originalname}" is empty`);
      if (detectedType === null) {
        detectedType = this.detect(file, Buffer.concat(pending, pendingBytes));
        blobId = await this.blobs.create();
      }
      const id = blobId as string;
      await flush(id, 1);
      const sha256 = hash.digest('hex');
      await this.blobs.complete(id, size, sha256);
      return { originalname: file.originalname, blobId: id, size, sha256, detectedType };
    } catch (err) {
      if (blobId !== null) await this.blobs.delete(blobId).catch(() => undefined);
      stream.resume();
      throw err;
    }
  }

  private detect(file: IncomingFile, head: Buffer): SupportedFileType {
    const detection = detectFileType({ head: head.subarray(0, SNIFF_BYTES), filename: file.originalname, declared: file.mimetype });
    if ('type' in detection) return detection.type;
    throw new UnsupportedMediaTypeException(
      `"${file.originalname}" is ${detection.unsupported}; supported types: ${SUPPORTED_FILE_TYPES.join(', ')}`,
    );
  }
}
