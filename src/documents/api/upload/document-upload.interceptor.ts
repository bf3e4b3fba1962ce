import { BadRequestException, CallHandler, ForbiddenException, ExecutionContext, Inject, Injectable, NestInterceptor, PayloadTooLargeException } from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import { RequestWithPrincipal } from '../../../auth/access.decorators';
import { OPEN_PRINCIPAL, holdsNamespace } from '../../../auth/principal';
import { DEFAULT_NAMESPACE } from '../../../common/namespace';
import type { Request, Response } from 'express';
import { Observable, of } from 'rxjs';
import { AppConfig } from '../../../config/app-config';
import { APP_CONFIG } from '../../../config/config.module';
import { PostgresUploadStorage, StoredUpload } from '../../../extraction/api/postgres-upload.storage';
import { FileBlobRepository } from '../../../extraction/file-blob.repository';
import { DocumentUploadsService } from './document-uploads.service';
import { readUploadFields } from './upload-fields';

/** The form's file field; every other field is one of the JSON body's fields. */
export const FILE_FIELD = 'file';

type MultipartReader = Pick<NestInterceptor, 'intercept'>;

/**
 * Takes the multipart form of `POST /v1/documents`: streams the file into Postgres
 * (multer through FileInterceptor, with the upload limit), validates the other fields as
 * the JSON body's, records the document and answers. JSON requests go on to the handler.
 */
@Injectable()
export class DocumentUploadInterceptor implements NestInterceptor {
  private readonly multipart: MultipartReader;
  private readonly limitBytes: number;

  constructor(
    blobs: FileBlobRepository,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly uploads: DocumentUploadsService,
  ) {
    const limitBytes = config.files.uploadLimitBytes;
    this.limitBytes = limitBytes;
    const Multipart = FileInterceptor(FILE_FIELD, {
      storage: new PostgresUploadStorage(blobs, limitBytes),
      // One file; fields are small (metadata is the largest), so a form cannot smuggle a body past the limits.
      limits: { fileSize: limitBytes, files: 1, fields: 20, fieldSize: 1024 * 1024, parts: 21 },
    });
    this.multipart = new Multipart();
  }

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const http = context.switchToHttp();
    const req = http.getRequest<Request & RequestWithPrincipal>();
    if (!req.is('multipart/form-data')) return next.handle();
    await Promise.resolve(this.multipart.intercept(context, { handle: () => of(undefined) })).catch((err: unknown) => {
      // Multer's own message is a bare "File too large".
      throw err instanceof PayloadTooLargeException
        ? new PayloadTooLargeException(`file is larger than the upload limit of ${this.limitBytes} bytes (UPLOAD_LIMIT_BYTES)`)
        : err;
    });
    const upload = req.file as unknown as StoredUpload | undefined;
    if (!upload) throw new BadRequestException(`a multipart request carries the document as a file in the field "${FILE_FIELD}"`);
    const fields = await readUploadFields(req.body as Record<string, unknown>).catch(async (err: unknown) => {
      await this.uploads.discard(upload);
      throw err;
    });
    // The form's namespace is known only now: the guard left it to this check.
    const principal = req.principal ?? OPEN_PRINCIPAL;
    const namespace = fields.document.namespace ?? DEFAULT_NAMESPACE;
    if (!holdsNamespace(principal, namespace)) {
      await this.uploads.discard(upload);
      throw new ForbiddenException(`this API key does not hold namespace "${namespace}"`);
    }
    const answer = await this.uploads.submit(fields, upload, req.header('idempotency-key'), principal.id);
    http.getResponse<Response>().status(answer.statusCode);
    return of(answer.body);
  }
}
