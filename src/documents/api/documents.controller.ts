import { Body, Controller, Delete, Get, Headers, HttpCode, NotFoundException, Param, ParseUUIDPipe, Post, Query, Res, UseInterceptors } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBody, ApiExtension, ApiHeader, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiErrors } from '../../common/api-errors.decorator';
import { MULTIPART_FORM } from '../../common/openapi';
import { UPLOAD_FORM_SCHEMA } from './upload/upload-form.schema';
import { Access, CurrentPrincipal } from '../../auth/access.decorators';
import { Principal, holdsNamespace, namespaceFilter } from '../../auth/principal';
import { DEFAULT_NAMESPACE } from '../../common/namespace';
import { AttemptView, DocumentView, toAttemptView, toDocumentView } from './document.view';
import { BatchAnswer, DocumentBatchService } from './document-batch.service';
import { DocumentChunksService } from './document-chunks.service';
import { AcceptGroups } from './accept-groups';
import { DocumentsService } from './documents.service';
import { CreateDocumentBatchDto } from './dto/create-document-batch.dto';
import { CreateDocumentDto } from './dto/create-document.dto';
import { DeleteByExternalIdQuery } from './dto/delete-by-external-id.query';
import { DocumentChunksQuery } from './dto/document-chunks.query';
import {
  BatchResponse,
  ChunkPageResponse,
  DocumentPageResponse,
  DocumentWithHistoryResponse,
  ReprocessResponse,
  SubmitResponse,
} from './dto/document.responses';
import { ListDocumentsQuery } from './dto/list-documents.query';
import { DocumentUploadInterceptor } from './upload/document-upload.interceptor';

// Ids are UUIDs; anything else cannot name a document, so it is "not found", not a crash.
const uuidPipe = new ParseUUIDPipe({ exceptionFactory: () => new NotFoundException('document not found (ids are UUIDs)') });

const ID_PARAM = ApiParam({ name: 'id', format: 'uuid', description: 'the document id' });
const IDEMPOTENCY_HEADER = ApiHeader({
  name: 'idempotency-key',
  required: false,
  description: 'a repeated request with the same key gets the first answer; the same key with another body is a 422',
});

/** Documents: submit (one or a batch), status, list, chunks, reprocess, delete. */
@ApiTags('documents')
@Controller('v1/documents')
export class DocumentsController {
  constructor(
    private readonly documents: DocumentsService,
    private readonly accepts: AcceptGroups,
    private readonly batches: DocumentBatchService,
    private readonly chunks: DocumentChunksService,
  ) {}

  /**
   * 202 with the queued document; 200 with `deduplicated: true` when nothing changed.
   * An `Idempotency-Key` header makes a retried request return the first answer.
   * A `multipart/form-data` request (a file upload) is answered by DocumentUploadInterceptor.
   */
  @Post()
  @ApiOperation({ summary: 'Submit a document', description: 'Recorded at once and processed in the background.' })
  @IDEMPOTENCY_HEADER
  @ApiAcceptedResponse({ type: SubmitResponse, description: 'recorded and queued' })
  @ApiOkResponse({ type: SubmitResponse, description: 'the same content and settings were already recorded (`deduplicated: true`)' })
  @ApiErrors([400, 413, 415, 422, 503])
  @UseInterceptors(DocumentUploadInterceptor)
  @ApiExtension(MULTIPART_FORM, UPLOAD_FORM_SCHEMA)
  @Access({ scope: 'documents:write', namespace: 'body', deniedStatus: 403 })
  async create(
    @Body() dto: CreateDocumentDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) res: Response,
    @CurrentPrincipal() principal: Principal,
  ) {
    const answer = await this.accepts.submit(dto, idempotencyKey, principal.id);
    res.status(answer.statusCode);
    return answer.body;
  }

  /** One result per document in request order; a bad document is rejected alone. */
  @Post('batch')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Submit many documents',
    description:
      'Each document is checked on its own: a bad one is `rejected` with its reason, the others are `accepted` (recorded in one ' +
      'transaction and queued together) or `deduplicated`. A document posted twice in one batch is processed once.',
  })
  @IDEMPOTENCY_HEADER
  @ApiBody({ type: CreateDocumentBatchDto })
  @ApiOkResponse({ type: BatchResponse, description: 'one result per document, in request order' })
  @ApiErrors([400, 413, 415, 422, 503], { 413: 'more documents than BATCH_MAX_DOCUMENTS, or a body over BODY_LIMIT_BYTES' })
  @Access({ scope: 'documents:write' })
  async createBatch(
    @Body() batch: CreateDocumentBatchDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @CurrentPrincipal() principal: Principal,
  ): Promise<BatchAnswer['body']> {
    return (await this.batches.submit(batch, idempotencyKey, principal)).body;
  }

  @Get()
  @ApiOperation({ summary: 'List documents', description: 'Newest first, a page at a time.' })
  @ApiOkResponse({ type: DocumentPageResponse })
  @ApiErrors([400])
  @Access({ scope: 'documents:read', namespace: 'query' })
  async list(
    @Query() query: ListDocumentsQuery,
    @CurrentPrincipal() principal: Principal,
  ): Promise<{ items: DocumentView[]; nextCursor: string | null }> {
    const page = await this.documents.list(query, namespaceFilter(principal));
    return { items: page.items.map(toDocumentView), nextCursor: page.nextCursor };
  }

  /** Deletes the document with this external id in this namespace (default `default`). */
  @Delete()
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a document by its external id', description: 'Removes the document and its chunks.' })
  @ApiNoContentResponse({ description: 'deleted' })
  @ApiErrors([400, 404])
  @Access({ scope: 'documents:write' })
  async deleteByExternalId(@Query() query: DeleteByExternalIdQuery, @CurrentPrincipal() principal: Principal): Promise<void> {
    const namespace = query.namespace ?? DEFAULT_NAMESPACE;
    // Another namespace's document answers as a missing one.
    if (!holdsNamespace(principal, namespace)) throw new NotFoundException(`no document with externalId ${JSON.stringify(query.externalId)} in namespace ${namespace}`);
    await this.documents.deleteByExternalId(query.namespace, query.externalId);
  }

  /** Status, with the most recent attempts (`history`, oldest first). */
  @Get(':id')
  @ApiOperation({ summary: "A document's status", description: 'With its last 20 attempts (`history`, oldest first).' })
  @ID_PARAM
  @ApiOkResponse({ type: DocumentWithHistoryResponse })
  @ApiErrors([404])
  @Access({ scope: 'documents:read', namespace: 'document' })
  async get(@Param('id', uuidPipe) id: string): Promise<DocumentView & { history: AttemptView[] }> {
    const found = await this.documents.getWithHistory(id);
    return { ...toDocumentView(found), history: found.history.map(toAttemptView) };
  }

  @Get(':id/chunks')
  @ApiOperation({ summary: "A document's chunks", description: 'In order, a page at a time; vectors only with `includeVectors=true`.' })
  @ID_PARAM
  @ApiOkResponse({ type: ChunkPageResponse })
  @ApiErrors([400, 404])
  @Access({ scope: 'documents:read', namespace: 'document' })
  chunkPage(@Param('id', uuidPipe) id: string, @Query() query: DocumentChunksQuery) {
    return this.chunks.page(id, query);
  }

  @Post(':id/reprocess')
  @Access({ scope: 'documents:write', namespace: 'document' })
  @HttpCode(202)
  @ApiOperation({ summary: 'Process a document again', description: 'Its current text, under a new version.' })
  @ID_PARAM
  @ApiAcceptedResponse({ type: ReprocessResponse })
  @ApiErrors([404])
  async reprocess(@Param('id', uuidPipe) id: string) {
    const doc = await this.documents.reprocess(id);
    return { id: doc.id, status: doc.status, version: doc.version, statusUrl: `/v1/documents/${doc.id}` };
  }

  @Delete(':id')
  @Access({ scope: 'documents:write', namespace: 'document' })
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a document', description: 'Removes it and its chunks; a job still running for it ends without writing.' })
  @ID_PARAM
  @ApiNoContentResponse({ description: 'deleted' })
  @ApiErrors([404])
  async delete(@Param('id', uuidPipe) id: string): Promise<void> {
    await this.documents.delete(id);
  }
}
