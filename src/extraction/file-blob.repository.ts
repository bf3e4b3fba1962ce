import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

/** Bytes per stored part: big enough for few round trips, small enough that no process holds much at once. */
export const BLOB_PART_BYTES = 1024 * 1024;

/** A stored file as the worker reads it. */
export interface StoredBlob {
  id: string;
  bytes: number;
}

/**
 * Original file bytes in Postgres, as numbered parts of `file_blobs`, so that neither
 * writing nor reading ever needs a whole file in one value. A blob is staged while its
 * upload streams in, then linked to its document in the document's transaction; deleting
 * the document deletes its blob.
 */
@Injectable()
export class FileBlobRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** A new, empty blob not linked to any document. */
  async create(): Promise<string> {
    const rows: Array<{ id: string }> = await this.db.query(`INSERT INTO file_blobs DEFAULT VALUES RETURNING id`);
    return rows[0].id;
  }

  async appendPart(blobId: string, seq: number, data: Buffer): Promise<void> {
    await this.db.query(`INSERT INTO file_blob_parts (blob_id, seq, data) VALUES ($1, $2, $3)`, [blobId, seq, data]);
  }

  async complete(blobId: string, bytes: number, sha256: string): Promise<void> {
    await this.db.query(`UPDATE file_blobs SET bytes = $2, sha256 = $3 WHERE id = $1`, [blobId, bytes, sha256]);
  }

  async delete(blobId: string): Promise<void> {
    await this.db.query(`DELETE FROM file_blobs WHERE id = $1`, [blobId]);
  }

  /** Deletes blobs staged more than `hours` ago and never linked to a document; returns how many. */
  async deleteStagedOlderThan(hours: number): Promise<number> {
    // TypeORM answers a DELETE with [rows, affected].
    const [, affected]: [unknown[], number] = await this.db.query(
      `DELETE FROM file_blobs WHERE document_id IS NULL AND created_at < now() - make_interval(hours => $1)`,
      [hours],
    );
    return affected;
  }

  /** Makes `blobId` the document's file, dropping the blob of any earlier version. */
  async link(em: EntityManager, blobId: string, documentId: string): Promise<void> {
    await em.query(`DELETE FROM file_blobs WHERE document_id = $1 AND id <> $2`, [documentId, blobId]);
    await em.query(`UPDATE file_blobs SET document_id = $2 WHERE id = $1`, [blobId, documentId]);
  }

  /** Drops the document's file, when a version posted as text replaces it. */
  async unlinkAll(em: EntityManager, documentId: string): Promise<void> {
    await em.query(`DELETE FROM file_blobs WHERE document_id = $1`, [documentId]);
  }

  /** The document's file, or null if it has none (it was posted as text, or is gone). */
  async findForDocument(documentId: string): Promise<StoredBlob | null> {
    const rows: Array<{ id: string; bytes: string }> = await this.db.query(
      `SELECT id, bytes FROM file_blobs WHERE document_id = $1`,
      [documentId],
    );
    return rows.length === 0 ? null : { id: rows[0].id, bytes: Number(rows[0].bytes) };
  }

  /**
   * The blob's bytes in one buffer, read a part at a time. Null if a part is missing
   * (the blob was replaced or deleted while being read).
   */
  async read(blob: StoredBlob): Promise<Uint8Array | null> {
    const out = new Uint8Array(blob.bytes);
    let offset = 0;
    for (let seq = 0; offset < blob.bytes; seq++) {
      const rows: Array<{ data: Buffer }> = await this.db.query(`SELECT data FROM file_blob_parts WHERE blob_id = $1 AND seq = $2`, [blob.id, seq]);
      if (rows.length === 0 || offset + rows[0].data.length > blob.bytes) return null;
      out.set(rows[0].data, offset);
      offset += rows[0].data.length;
    }
    return out;
  }
}
