import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiResponse } from '@nestjs/swagger';
import { ErrorBody, reasonPhrase } from './error-body';

/** `ErrorBody` as the OpenAPI document describes it. */
export class ErrorResponse implements ErrorBody {
  @ApiProperty({ example: 400 })
  statusCode!: number;

  @ApiProperty({ example: 'Bad Request', description: 'the HTTP reason phrase' })
  error!: string;

  @ApiProperty({ example: 'content is required; namespace must be 1-128 characters of letters, digits, ".", "_" or "-", starting with a letter or digit' })
  message!: string;

  @ApiPropertyOptional({
    description: 'structured extras: `errors` (each validation failure), `correlationId` (500), or what the error carried',
    example: { errors: ['content is required'] },
  })
  details?: unknown;
}

/** Why a route answers each error status, unless a route says otherwise. */
const DEFAULT_REASONS: Record<number, string> = {
  400: 'the request is not valid: `message` names each bad field',
  404: 'no such resource',
  409: 'conflicts with the current state',
  413: 'the request is larger than allowed',
  415: 'the request body type is not supported',
  422: 'the request is well formed but cannot be processed',
  503: 'not available now (database down or shutting down): try again shortly',
};

/** Declares the error answers of a route, each in the one error shape. `reasons` overrides a description. */
export function ApiErrors(statuses: number[], reasons: Record<number, string> = {}): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: reasons[status] ?? DEFAULT_REASONS[status] ?? reasonPhrase(status),
        type: ErrorResponse,
        example: { statusCode: status, error: reasonPhrase(status), message: reasons[status] ?? DEFAULT_REASONS[status] ?? reasonPhrase(status) },
      }),
    ),
  );
}
