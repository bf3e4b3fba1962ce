import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { GROUP_BY, SEARCH_MODES } from './search.dto';

// Response shapes of POST /v1/search for the OpenAPI document.

export class RanksView {
  @ApiPropertyOptional({ example: 1, description: 'rank in the vector list' })
  vector?: number;

  @ApiPropertyOptional({ example: 1, description: 'rank in the keyword (BM25) list' })
  keyword?: number;
}

/** A chunk inside a document of a grouped answer. */
export class GroupedChunkHit {
  @ApiProperty({ format: 'uuid' })
  chunkId!: string;

  @ApiProperty({ example: 0 })
  chunkIndex!: number;

  @ApiProperty({ example: '# Backups\n\nRun the nightly backup with pg_dump and keep seven days of archives.' })
  content!: string;

  @ApiProperty({ type: String, nullable: true, example: 'Ops handbook > Backups' })
  context!: string | null;

  @ApiProperty({ example: 0.0246 })
  score!: number;

  @ApiProperty({ type: RanksView })
  ranks!: RanksView;
}

/** One chunk of a `groupBy: "chunk"` answer. */
export class ChunkHitView extends GroupedChunkHit {
  @ApiProperty({ format: 'uuid' })
  documentId!: string;

  @ApiProperty({ type: 'object', additionalProperties: true, example: { team: 'ops' } })
  metadata!: Record<string, unknown>;

  @ApiProperty({ type: String, nullable: true, example: 'Ops handbook' })
  title!: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'ops-1' })
  externalId!: string | null;
}

/** One document of a `groupBy: "document"` answer, with its best chunks. */
export class DocumentHitView {
  @ApiProperty({ format: 'uuid' })
  documentId!: string;

  @ApiProperty({ type: String, nullable: true, example: 'Ops handbook' })
  title!: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'ops-1' })
  externalId!: string | null;

  @ApiProperty({ type: 'object', additionalProperties: true, example: { team: 'ops' } })
  metadata!: Record<string, unknown>;

  @ApiProperty({ example: 0.0246 })
  score!: number;

  @ApiProperty({ type: [GroupedChunkHit] })
  chunks!: GroupedChunkHit[];
}

export class SearchResponse {
  @ApiProperty({ enum: SEARCH_MODES, example: 'hybrid' })
  mode!: string;

  @ApiProperty({ enum: GROUP_BY, example: 'chunk' })
  groupBy!: string;

  @ApiProperty({
    description: '`ChunkHitView`s, or `DocumentHitView`s with `groupBy: "document"`',
    oneOf: [{ type: 'array', items: { $ref: '#/components/schemas/ChunkHitView' } }, { type: 'array', items: { $ref: '#/components/schemas/DocumentHitView' } }],
  })
  results!: ChunkHitView[] | DocumentHitView[];
}
