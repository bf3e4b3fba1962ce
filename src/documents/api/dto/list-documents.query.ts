import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { NamespacePageQuery } from '../../../common/page.query';
import { DOCUMENT_STATUSES, DocumentStatus } from '../../document-status';

/** Query of `GET /v1/documents`. */
export class ListDocumentsQuery extends NamespacePageQuery {
  @ApiPropertyOptional({ enum: DOCUMENT_STATUSES })
  @IsOptional()
  @IsIn(DOCUMENT_STATUSES, { message: `status must be one of ${DOCUMENT_STATUSES.join(', ')}` })
  status?: DocumentStatus;
}
