import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export const BACKFILL_STATES = ['none', 'loading', 'building', 'ready'] as const;
export type BackfillState = (typeof BACKFILL_STATES)[number];
export const VECTOR_SEARCH_PATHS = ['shared-index', 'exact', 'own-index'] as const;
export type VectorSearchPath = (typeof VECTOR_SEARCH_PATHS)[number];

/** A namespace's documents by status. */
export class BackfillDocumentCounts {
  @ApiProperty({ example: 0 })
  queued!: number;

  @ApiProperty({ example: 0 })
  processing!: number;

  @ApiProperty({ example: 20000 })
  ready!: number;

  @ApiProperty({ example: 0 })
  failed!: number;
}

/** The namespace's own HNSW index. */
export class BackfillIndexView {
  @ApiProperty({ example: 'chunks_ns_hnsw_5f0c2a7be1d94c3a8e12ab34' })
  name!: string;

  @ApiProperty({ example: true, description: 'built and used by searches' })
  valid!: boolean;

  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true })
  buildStartedAt!: string | null;

  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true })
  builtAt!: string | null;

  @ApiPropertyOptional({ type: Number, nullable: true, example: 6120, description: 'how long the last build took' })
  buildMs!: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true, example: 320000, description: 'chunks in the index when it was built' })
  rowsIndexed!: number | null;

  @ApiPropertyOptional({ type: String, nullable: true, example: '512MB', description: 'maintenance_work_mem the build was given' })
  maintenanceWorkMem!: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'why the last build attempt failed (it is retried)' })
  lastError!: string | null;
}

/** 200 of `GET /v1/namespaces/:namespace/backfill`. */
export class BackfillStatusResponse {
  @ApiProperty({ example: 'demo' })
  namespace!: string;

  @ApiProperty({
    enum: BACKFILL_STATES,
    example: 'ready',
    description: 'none: never backfilled; loading: documents are being written; building: its index is being built; ready: done',
  })
  state!: BackfillState;

  @ApiProperty({ example: true, description: 'every document of the namespace is ready or failed and its index is built' })
  done!: boolean;

  @ApiProperty({
    enum: VECTOR_SEARCH_PATHS,
    example: 'own-index',
    description: "how vector search ranks the namespace's chunks now: through the shared HNSW index, exactly (while backfilling), or through its own index",
  })
  vectorSearch!: VectorSearchPath;

  @ApiProperty({ type: BackfillDocumentCounts })
  documents!: BackfillDocumentCounts;

  @ApiPropertyOptional({ type: BackfillIndexView, nullable: true, description: 'null when the namespace was never backfilled' })
  index!: BackfillIndexView | null;

  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true, description: 'when the current backfill began' })
  startedAt!: string | null;
}
