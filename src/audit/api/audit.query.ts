import { IsOptionalNamespace } from '../../common/namespace';

/** Query of `GET /v1/audit`. */
export class AuditQuery {
  /** One namespace; absent audits every namespace (and the embedding cache, which has none). */
  @IsOptionalNamespace()
  namespace?: string;
}
