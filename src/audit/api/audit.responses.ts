import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class AuditReportResponse {
  @ApiPropertyOptional({ type: String, nullable: true, description: 'the namespace audited; null for all' })
  namespace!: string | null;

  @ApiProperty({ description: 'whether the background auditor repairs what it finds (AUDIT_REPAIR)' })
  repairEnabled!: boolean;

  @ApiProperty({ description: 'false when the report stopped before reading everything' })
  complete!: boolean;

  @ApiProperty({ format: 'date-time' })
  checkedAt!: string;

  @ApiProperty({
    description: 'by kind: chunk_count_mismatch, orphan_chunks, foreign_model_chunks, stuck_documents, failed_without_dead_letter, stale_cache_models',
    type: 'object',
    additionalProperties: { type: 'object', properties: { found: { type: 'integer' }, rows: { type: 'integer' } } },
  })
  kinds!: Record<string, { found: number; rows: number }>;

  @ApiProperty({ type: 'array', items: { type: 'object' }, description: 'each finding: kind, namespace, documentId, detail' })
  findings!: object[];

  @ApiProperty({ type: 'array', items: { type: 'object' }, description: "the auditor's recent findings and what it did" })
  recent!: object[];
}
