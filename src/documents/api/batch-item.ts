import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { validationMessages } from '../../common/validation-messages';
import { CreateDocumentDto } from './dto/create-document.dto';

/** One item of a batch after validation: its document, or why it was refused. */
export type CheckedItem = { index: number; dto: CreateDocumentDto } | { index: number; error: string };

/** Validates one batch item by the rules of `POST /v1/documents` (the global ValidationPipe's settings). */
export function checkBatchItem(raw: unknown, index: number): CheckedItem {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { index, error: 'each document must be a JSON object like the body of POST /v1/documents' };
  }
  const dto = plainToInstance(CreateDocumentDto, raw);
  const errors = validateSync(dto, { whitelist: true, forbidNonWhitelisted: true, stopAtFirstError: false });
  return errors.length === 0 ? { index, dto } : { index, error: validationMessages(errors).join('; ') };
}
