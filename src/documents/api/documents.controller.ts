import { Body, Controller, Delete, Get, Headers, HttpCode, NotFoundException, Param, ParseUUIDPipe, Post, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Access, CurrentPrincipal } from '../../auth/access.decorators';
import { Principal, namespaceFilter } from '../../auth/principal';
import { AttemptView, DocumentView, toAttemptView, toDocumentView } from './document.view';
import { DocumentsService } from './documents.service';
import { CreateDocumentDto } from './dto/create-document.dto';
import { ListDocumentsQuery } from './dto/list-documents.query';

// Ids are UUIDs; anything else cannot name a document, so it is "not found", not a crash.
const uuidPipe = new ParseUUIDPipe({ exceptionFactory: () => new NotFoundException('document not found (ids are UUIDs)') });

/** Documents: submit, status, list, reprocess, delete. */
@Controller('v1/documents')
export class DocumentsController {
  constructor(private readonly documents: DocumentsService) {}

  /**
   * 202 with the queued document; 200 with `deduplicated: true` when nothing changed.
   * An `Idempotency-Key` header makes a retried request return the first answer.
   */
  @Post()
  @Access({ scope: 'documents:write', namespace: 'body', deniedStatus: 403 })
  async create(
    @Body() dto: CreateDocumentDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) res: Response,
    @CurrentPrincipal() principal: Principal,
  ) {
    const answer = await this.documents.submit(dto, idempotencyKey, principal.id);
    res.status(answer.statusCode);
    return answer.body;
  }

  @Get()
  @Access({ scope: 'documents:read', namespace: 'query' })
  async list(
    @Query() query: ListDocumentsQuery,
    @CurrentPrincipal() principal: Principal,
  ): Promise<{ items: DocumentView[]; nextCursor: string | null }> {
    const page = await this.documents.list(query, namespaceFilter(principal));
    return { items: page.items.map(toDocumentView), nextCursor: page.nextCursor };
  }

  /** Status, with the most recent attempts (`history`, oldest first). */
  @Get(':id')
  @Access({ scope: 'documents:read', namespace: 'document' })
  async get(@Param('id', uuidPipe) id: string): Promise<DocumentView & { history: AttemptView[] }> {
    const found = await this.documents.getWithHistory(id);
    return { ...toDocumentView(found), history: found.history.map(toAttemptView) };
  }

  @Post(':id/reprocess')
  @Access({ scope: 'documents:write', namespace: 'document' })
  @HttpCode(202)
  async reprocess(@Param('id', uuidPipe) id: string) {
    const doc = await this.documents.reprocess(id);
    return { id: doc.id, status: doc.status, version: doc.version, statusUrl: `/v1/documents/${doc.id}` };
  }

  @Delete(':id')
  @Access({ scope: 'documents:write', namespace: 'document' })
  @HttpCode(204)
  async delete(@Param('id', uuidPipe) id: string): Promise<void> {
    await this.documents.delete(id);
  }
}
