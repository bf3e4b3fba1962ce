import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { ErrorResponse } from './api-errors.decorator';
import { reasonPhrase } from './error-body';

export const DOCS_PATH = 'docs';
export const OPENAPI_JSON_PATH = `${DOCS_PATH}/openapi.json`;

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

/** The OpenAPI 3 document of every route of `app`, built from the controllers' and DTOs' decorators. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Ingest service')
    .setDescription(
      'Turns documents into searchable vectors: post documents (one or a batch), follow their status, page through their ' +
        'chunks, search. Every error answers `{ statusCode, error, message, details? }`.',
    )
    .setVersion('1')
    .build();
  const document = SwaggerModule.createDocument(app, config, { extraModels: [ErrorResponse] });
  addServerErrors(document);
  addMultipartForms(document);
  return document;
}

/** Serves the UI at /docs and the document at /docs/openapi.json. */
export function serveOpenApi(app: INestApplication): void {
  SwaggerModule.setup(DOCS_PATH, app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: OPENAPI_JSON_PATH,
    raw: ['json'],
    customSiteTitle: 'Ingest service API',
  });
}

/** Marks a route that also takes `multipart/form-data` (answered by an interceptor, so Nest cannot see the form). */
export const MULTIPART_FORM = 'x-multipart-form';

// The form goes beside the JSON body, as a second media type of the same request body.
function addMultipartForms(document: OpenAPIObject): void {
  for (const item of Object.values(document.paths)) {
    for (const method of HTTP_METHODS) {
      const operation = item[method] as (OpenAPIObject['paths'][string]['post'] & Record<string, unknown>) | undefined;
      const form = operation?.[MULTIPART_FORM];
      if (!operation || form === undefined) continue;
      delete operation[MULTIPART_FORM];
      const body = (operation.requestBody ?? { content: {} }) as { content: Record<string, unknown> };
      body.content['multipart/form-data'] = { schema: form };
      operation.requestBody = body as never;
    }
  }
}

// Any route can fail unexpectedly; saying so once here keeps every controller from repeating it.
function addServerErrors(document: OpenAPIObject): void {
  const schema = { $ref: `#/components/schemas/${ErrorResponse.name}` };
  for (const item of Object.values(document.paths)) {
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (!operation || operation.responses['500']) continue;
      operation.responses['500'] = {
        description: 'an unexpected error; `details.correlationId` finds it in the logs',
        content: {
          'application/json': {
            schema,
            example: { statusCode: 500, error: reasonPhrase(500), message: 'internal error', details: { correlationId: '6f1c0c3e-3f7a-4c55-9a51-0d1f5d1c2b7e' } },
          },
        },
      };
    }
  }
}
