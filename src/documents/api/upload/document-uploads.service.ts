import { Injectable, Logger } from '@nestjs/common';
import { StoredUpload } from '../../../extraction/api/postgres-upload.storage';
import { FileBlobRepository } from '../../../extraction/file-blob.repository';
import { sha256Hex } from '../../pipeline';
import { SubmitAnswer } from '../../submit-answer';
import { DocumentSource } from '../../document-source';
import { DocumentsService } from '../documents.service';
import { UploadFields } from './upload-fields';

/**
 * Records an uploaded file as a document. Its bytes are stored already (staged); they
 * become the document's in the transaction that records it, or are dropped when the same
 * bytes were there already (deduplicated), the request is a repeat, or it fails.
 */
@Injectable()
export class DocumentUploadsService {
  private readonly logger = new Logger(DocumentUploadsService.name);

  constructor(
    private readonly documents: DocumentsService,
    private readonly blobs: FileBlobRepository,
  ) {}

  async submit(fields: UploadFields, upload: StoredUpload, idempotencyKey?: string, owner = 'open'): Promise<SubmitAnswer> {
    const source: DocumentSource = {
      filename: upload.originalname,
      mimeType: upload.detectedType,
      bytes: upload.size,
      sha256: upload.sha256,
      ...(fields.uploadedBy === undefined ? {} : { uploadedBy: fields.uploadedBy }),
    };
    let linked = false;
    try {
      // The worker extracts the text: until then the document has none, and its hash is the file's.
      const doc = { ...this.documents.prepare({ ...fields.document, content: '' }), contentSha256: upload.sha256, source };
      const requestSha = sha256Hex(JSON.stringify({ ...fields, file: upload.sha256 }));
      let willLink = false;
      const answer = await this.documents.accept(doc, requestSha, idempotencyKey, async (em, document) => {
        await this.blobs.link(em, upload.blobId, document.id);
        willLink = true;
      }, fields.document.callbackUrl, owner);
      linked = willLink;
      return answer;
    } finally {
      if (!linked) await this.discard(upload);
    }
  }

  /** Drops a staged upload that will not become a document's. */
  async discard(upload: StoredUpload): Promise<void> {
    await this.blobs.delete(upload.blobId).catch((err: unknown) => this.logger.warn(`staged upload ${upload.blobId} not dropped: ${String(err)}`));
  }
}
