import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { NAMESPACE_PATTERN, NAMESPACE_RULE } from '../../common/namespace';
import { DOCUMENT_STATUSES, DocumentStatus } from '../document-status';

/** Query of `GET /v1/documents`. */
export class ListDocumentsQuery {
  @IsOptional()
  @IsString()
  @Matches(NAMESPACE_PATTERN, { message: `namespace ${NAMESPACE_RULE}` })
  namespace?: string;

  @IsOptional()
  @IsIn(DOCUMENT_STATUSES, { message: `status must be one of ${DOCUMENT_STATUSES.join(', ')}` })
  status?: DocumentStatus;

  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be a whole number' })
  @Min(1)
  @Max(100)
  limit?: number;

  @IsOptional()
  @IsString()
  cursor?: string;
}
