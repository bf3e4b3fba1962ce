import { BadRequestException, ValidationPipe } from '@nestjs/common';
import { CreateDocumentDto } from '../dto/create-document.dto';

/** The form fields of an upload: the JSON body's fields but `content` (the file is the content), and `uploadedBy`. */
export interface UploadFields {
  document: Omit<CreateDocumentDto, 'content'>;
  uploadedBy?: string;
}

// The same rules and messages as the JSON body's.
const validation = new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true, stopAtFirstError: false });
// Stands in for `content`, which the body's rules require and a form replaces with its file.
const FILE_STANDS_IN = 'file';
const JSON_FIELDS = ['metadata', 'chunking'] as const;

/** Validates the form fields of a multipart `POST /v1/documents`; 400 naming each bad field. */
export async function readUploadFields(form: Record<string, unknown>): Promise<UploadFields> {
  const { uploadedBy, content, ...rest } = form;
  if (content !== undefined) throw new BadRequestException('send the document either as the file or as content, not both');
  const body: Record<string, unknown> = { ...rest, content: FILE_STANDS_IN };
  for (const name of JSON_FIELDS) {
    if (typeof body[name] === 'string') body[name] = parseJsonField(name, body[name] as string);
  }
  const dto = (await validation.transform(body, { type: 'body', metatype: CreateDocumentDto })) as CreateDocumentDto;
  const { content: _standIn, ...document } = dto;
  return { document, uploadedBy: checkUploadedBy(uploadedBy) };
}

function parseJsonField(name: string, raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw new BadRequestException(`${name} must be a JSON object in a form field: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function checkUploadedBy(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > 256 || value.includes('\u0000')) {
    throw new BadRequestException('uploadedBy must be a text of 1 to 256 characters');
  }
  return value;
}
