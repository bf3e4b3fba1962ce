import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptionalNamespace } from '../../common/namespace';

/** Query of `GET /v1/audit`. */
export class AuditQuery {
  /** One namespace; absent audits every namespace (and the embedding cache, which has none). */
  @ApiPropertyOptional({ example: 'demo', description: 'every namespace when absent' })
  @IsOptionalNamespace()
  namespace?: string;
}
