import { Body, Controller, Delete, Get, Headers, HttpCode, NotFoundException, Param, ParseUUIDPipe, Post, Query, Res, UseInterceptors } from '@nestjs/common';
import type { Response } from 'express';
import { AttemptView, DocumentView, toAttemptView, toDocumentView } from './document.view';
import { DocumentsService } from './documents.service';
import { CreateDocumentDto } from './dto/create-document.dto';
import { ListDocumentsQuery } from './dto/list-documents.query';
import { DocumentUploadInterceptor } from './upload/document-upload.interceptor';

// Ids are UUIDs; anything else cannot name a document, so it is "not found", not a crash.
const uuidPipe = new ParseUUIDPipe({ exceptionFactory: () => new NotFoundException('document not found (ids are UUIDs)') });

/** Documents: submit, status, list, reprocess, delete. */
@Controller('v1/documents')
export class DocumentsController {
  constructor(private readonly documents: DocumentsService) {}

  /**
   * 202 with the queued document; 200 with `deduplicated: true` when nothing changed.
   * An `Idempotency-Key` header makes a retried request return the first answer.
   * A `multipart/form-data` request (a file upload) is answered by DocumentUploadInterceptor.
   */
  @Post()
  @UseInterceptors(DocumentUploadInterceptor)
  async create(
    @Body() dto: CreateDocumentDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    const answer = await this.documents.submit(dto, idempotencyKey);
    res.status(answer.statusCode);
    return answer.body;
  }

  @Get()
  async list(@Query() query: ListDocumentsQuery): Promise<{ items: DocumentView[]; nextCursor: string | null }> {
    const page = await this.documents.list(query);
    return { items: page.items.map(toDocumentView), nextCursor: page.nextCursor };
  }

  /** Status, with the most recent attempts (`history`, oldest first). */
  @Get(':id')
  async get(@Param('id', uuidPipe) id: string): Promise<DocumentView & { history: AttemptView[] }> {
    const found = await this.documents.getWithHistory(id);
    return { ...toDocumentView(found), history: found.history.map(toAttemptView) };
  }

  @Post(':id/reprocess')
  @HttpCode(202)
  async reprocess(@Param('id', uuidPipe) id: string) {
    const doc = await this.documents.reprocess(id);
    return { id: doc.id, status: doc.status, version: doc.version, statusUrl: `/v1/documents/${doc.id}` };
  }

  @Delete(':id')
  @HttpCode(204)
  async delete(@Param('id', uuidPipe) id: string): Promise<void> {
    await this.documents.delete(id);
  }
}
