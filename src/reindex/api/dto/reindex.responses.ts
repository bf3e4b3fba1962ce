import { ApiProperty } from '@nestjs/swagger';

// Response shape of /v1/reindex for the OpenAPI document (ReindexView in reindex.service.ts).

class ActiveGenerationView {
  @ApiProperty({ example: 1 })
  generation!: number;

  @ApiProperty({ example: 'all-MiniLM-L6-v2' })
  model!: string;

  @ApiProperty({ example: 384 })
  dimension!: number;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  activatedAt!: string | null;
}

class ReindexFailureView {
  @ApiProperty({ format: 'uuid' })
  documentId!: string;

  @ApiProperty({ example: 'embedding API answered 400' })
  error!: string;
}

class ReindexProgressView {
  @ApiProperty({ example: 1200, description: 'documents the switch waits for' })
  total!: number;

  @ApiProperty({ example: 800 })
  done!: number;

  @ApiProperty({ example: 0 })
  failed!: number;

  @ApiProperty({ type: [ReindexFailureView] })
  errors!: ReindexFailureView[];
}

class ReindexRunView {
  @ApiProperty({ example: 2 })
  generation!: number;

  @ApiProperty({ enum: ['running', 'complete', 'cancelled'], example: 'running' })
  state!: string;

  @ApiProperty({ type: String, enum: ['copying', 'blocked', 'indexing', 'switching'], nullable: true, example: 'copying' })
  phase!: string | null;

  @ApiProperty({ example: 'text-embedding-3-small' })
  model!: string;

  @ApiProperty({ example: 1536 })
  dimension!: number;

  @ApiProperty({ type: Number, nullable: true, example: 1 })
  previousGeneration!: number | null;

  @ApiProperty({ type: ReindexProgressView, nullable: true })
  documents!: ReindexProgressView | null;

  @ApiProperty({ format: 'date-time' })
  startedAt!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  finishedAt!: string | null;
}

export class ReindexResponse {
  @ApiProperty({ type: ActiveGenerationView, description: 'the generation search answers from' })
  active!: ActiveGenerationView;

  @ApiProperty({ type: ReindexRunView, nullable: true, description: 'the latest re-embed; null if there was none' })
  reindex!: ReindexRunView | null;
}
