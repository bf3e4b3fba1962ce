import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { DocumentSource } from '../../documents/document-source';
import { PermanentIngestError } from '../../ingest/ingest-errors';
import type { ExtractedText } from '../extracted-text';
import { FileBlobRepository } from '../file-blob.repository';
import { extractInThread } from './extraction-thread.runner';

/** The document an extraction is for. */
export interface FileDocument {
  id: string;
  source: DocumentSource;
}

/**
 * The text of an uploaded document: its stored bytes read from Postgres and extracted in
 * a thread under the configured time and memory limits. Null when the document no longer
 * has its file (replaced or deleted meanwhile: the job is stale).
 */
@Injectable()
export class FileTextExtractor {
  constructor(
    private readonly blobs: FileBlobRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async extract(doc: FileDocument): Promise<ExtractedText | null> {
    const blob = await this.blobs.findForDocument(doc.id);
    if (!blob) return null;
    const data = await this.blobs.read(blob);
    if (!data) return null;
    const { extractTimeoutMs: timeoutMs, extractMemoryMb: memoryMb } = this.config.files;
    const extracted = await extractInThread({ mimeType: doc.source.mimeType, data }, { timeoutMs, memoryMb });
    if (extracted.text.trim() === '') {
      throw new PermanentIngestError(
        'no_text',
        `"${doc.source.filename}" has no extractable text${doc.source.mimeType === 'application/pdf' ? ' (a scanned PDF holds only images: run OCR on it first)' : ''}`,
      );
    }
    return extracted;
  }
}
