import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMinSize, IsArray, IsDefined, IsIn, IsOptional } from 'class-validator';
import { CreateDocumentDto } from './create-document.dto';

export const BATCH_MODES = ['live', 'backfill'] as const;
export type BatchMode = (typeof BATCH_MODES)[number];

/**
 * Body of `POST /v1/documents/batch`. Items are validated one by one by the batch service, not here: one
 * bad item is rejected on its own and does not fail the request.
 */
export class CreateDocumentBatchDto {
  @ApiProperty({
    type: () => [CreateDocumentDto],
    description: 'each the JSON body of `POST /v1/documents`; at most BATCH_MAX_DOCUMENTS (default 1000)',
    example: [
      { content: '# Backups\n\nRun pg_dump nightly.', externalId: 'ops-1', namespace: 'demo' },
      { content: '# Restore\n\nFeed the dump to psql.', externalId: 'ops-2', namespace: 'demo', metadata: { team: 'ops' } },
    ],
  })
  @IsDefined({ message: 'documents is required' })
  @IsArray({ message: 'documents must be an array of documents' })
  @ArrayMinSize(1, { message: 'documents must hold at least one document' })
  documents!: unknown[];

  @ApiPropertyOptional({
    enum: BATCH_MODES,
    default: 'live',
    description:
      '`backfill` for large imports: the namespaces of the batch write their chunks without HNSW index maintenance, are ' +
      'searched exactly meanwhile, and get an index of their own built once their documents are all in ' +
      '(see `GET /v1/namespaces/{namespace}/backfill`)',
  })
  @IsOptional()
  @IsIn(BATCH_MODES, { message: `mode must be one of ${BATCH_MODES.join(', ')}` })
  mode?: BatchMode;
}
