import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { ChunkPageRepository, StoredChunkView } from '../../vector-store/chunk-page.repository';
import { DocumentVersionsRepository } from '../document-versions.repository';
import { DocumentChunksQuery, decodeChunkCursor, encodeChunkCursor } from './dto/document-chunks.query';

/** Pages through a document's stored chunks. */
@Injectable()
export class DocumentChunksService {
  constructor(
    private readonly versions: DocumentVersionsRepository,
    private readonly chunks: ChunkPageRepository,
  ) {}

  /** A page of chunks in order; 404 for an unknown document, 400 for a cursor this service did not hand out. */
  async page(documentId: string, query: DocumentChunksQuery): Promise<{ items: StoredChunkView[]; nextCursor: string | null }> {
    let afterIndex = -1;
    if (query.cursor !== undefined) {
      const decoded = decodeChunkCursor(query.cursor);
      if (decoded === null) throw new BadRequestException('cursor is not valid: pass the nextCursor of a previous page');
      afterIndex = decoded;
    }
    if (!(await this.versions.exists(documentId))) throw new NotFoundException(`document ${documentId} not found`);
    const { chunks, more } = await this.chunks.page({ documentId, afterIndex, limit: query.limit ?? 20, includeVectors: query.includeVectors ?? false });
    const last = chunks.at(-1);
    return { items: chunks, nextCursor: more && last ? encodeChunkCursor(last.index) : null };
  }
}
