import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDefined, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { DEFAULT_NAMESPACE, IsOptionalNamespace, NAMESPACE_PATTERN } from '../../../common/namespace';

/** Query of `DELETE /v1/documents`: the document to delete, named by its external id. */
export class DeleteByExternalIdQuery {
  @ApiPropertyOptional({ pattern: NAMESPACE_PATTERN.source, default: DEFAULT_NAMESPACE, example: 'demo' })
  @IsOptionalNamespace()
  namespace?: string;

  // Required, so a bare DELETE /v1/documents can never mean "everything".
  @ApiProperty({ example: 'ops-1', minLength: 1, maxLength: 512 })
  @IsDefined({ message: 'externalId is required: DELETE /v1/documents deletes one document by its external id' })
  @IsString({ message: 'externalId must be a string' })
  @MinLength(1)
  @MaxLength(512)
  @Matches(/^[^\u0000]*$/, { message: 'externalId must not contain NUL (\\u0000) characters' })
  externalId!: string;
}
