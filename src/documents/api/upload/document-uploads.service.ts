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
      // A file posted without a title is named by its file name: chunks embed their document's title as context.
      const title = fields.document.title ?? titleFromFilename(upload.originalname);
      const doc = { ...this.documents.prepare({ ...fields.document, title, content: '' }), contentSha256: upload.sha256, source };
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

/** A file name without its directories and last extension ("guides/Backup plan.pdf" → "Backup plan"), or undefined if nothing is left. */
export function titleFromFilename(filename: string): string | undefined {
  const base = filename.split(/[\\/]/).pop() ?? '';
  // Within the title field's own limits: at most 1000 characters, no NUL.
  const title = base.replace(/\.[A-Za-z0-9]{1,8}$/, '').replace(/\u0000/g, '').trim().slice(0, 1000);
  return title === '' ? undefined : title;
}
