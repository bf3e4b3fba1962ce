import { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { FILE_FIELD } from './document-upload.interceptor';

/** The multipart form of `POST /v1/documents`, as the OpenAPI document describes it. */
export const UPLOAD_FORM_SCHEMA: SchemaObject = {
  type: 'object',
  required: [FILE_FIELD],
  properties: {
    [FILE_FIELD]: {
      type: 'string',
      format: 'binary',
      description: 'PDF, DOCX, HTML, Markdown, plain text or JSON; the type is read from its bytes and name (UPLOAD_LIMIT_BYTES, default 100 MB)',
    },
    namespace: { type: 'string', example: 'demo' },
    externalId: { type: 'string', example: 'handbook/backups.pdf', description: 'the same bytes under the same externalId are deduplicated' },
    title: { type: 'string' },
    metadata: { type: 'string', description: 'a JSON object, as a string', example: '{"team":"ops"}' },
    chunking: { type: 'string', description: 'the JSON body\'s `chunking`, as a string', example: '{"size":1000,"overlap":200}' },
    callbackUrl: { type: 'string', description: 'called, signed, when the document is ready or fails' },
    uploadedBy: { type: 'string', description: 'kept in the document\'s `source`' },
  },
};
