import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { DOCUMENT_STATUSES } from '../../document-status';

// Response shapes of /v1/documents for the OpenAPI document; the controller builds them from document.view.ts.

const ID_EXAMPLE = 'cad83bc7-4b1e-4d33-9c7a-5f2f0e3c6a10';

/** 202 (or 200 when deduplicated) of `POST /v1/documents`. */
export class SubmitResponse {
  @ApiProperty({ format: 'uuid', example: ID_EXAMPLE })
  id!: string;

  @ApiProperty({ enum: DOCUMENT_STATUSES, example: 'queued' })
  status!: string;

  @ApiProperty({ example: 1 })
  version!: number;

  @ApiProperty({ example: false, description: 'true when the same content and settings were already recorded: nothing is processed' })
  deduplicated!: boolean;

  @ApiProperty({ example: `/v1/documents/${ID_EXAMPLE}` })
  statusUrl!: string;
}

export const BATCH_ITEM_STATUSES = ['accepted', 'deduplicated', 'rejected'] as const;
export type BatchItemStatus = (typeof BATCH_ITEM_STATUSES)[number];

/** What became of one document of a batch. */
export class BatchItemResult {
  @ApiProperty({ example: 0, description: 'position of the document in the request' })
  index!: number;

  @ApiProperty({ enum: BATCH_ITEM_STATUSES, example: 'accepted' })
  status!: BatchItemStatus;

  @ApiPropertyOptional({ format: 'uuid', example: ID_EXAMPLE, description: 'absent when rejected' })
  id?: string;

  @ApiPropertyOptional({ example: 1, description: 'absent when rejected' })
  version?: number;

  @ApiPropertyOptional({ example: 'content is required', description: 'why the document was rejected' })
  error?: string;
}

/** 200 of `POST /v1/documents/batch`: one result per document, in request order. */
export class BatchResponse {
  @ApiProperty({
    type: [BatchItemResult],
    example: [
      { index: 0, status: 'accepted', id: ID_EXAMPLE, version: 1 },
      { index: 1, status: 'deduplicated', id: 'f0e1d2c3-b4a5-4968-8776-655443322110', version: 3 },
      { index: 2, status: 'rejected', error: 'content is required' },
    ],
  })
  results!: BatchItemResult[];
}

/** 202 of `POST /v1/documents/:id/reprocess`. */
export class ReprocessResponse {
  @ApiProperty({ format: 'uuid', example: ID_EXAMPLE })
  id!: string;

  @ApiProperty({ enum: DOCUMENT_STATUSES, example: 'queued' })
  status!: string;

  @ApiProperty({ example: 2 })
  version!: number;

  @ApiProperty({ example: `/v1/documents/${ID_EXAMPLE}` })
  statusUrl!: string;
}

export class ChunkingView {
  @ApiProperty({ example: 200 })
  size!: number;

  @ApiProperty({ example: 30 })
  overlap!: number;

  @ApiProperty({ enum: ['chars', 'tokens'], example: 'tokens' })
  unit!: string;

  @ApiProperty({ type: String, nullable: true, example: 'minilm' })
  tokenizer!: string | null;
}

export class EmbeddingCostView {
  @ApiProperty({ example: 46 })
  tokens!: number;

  @ApiProperty({ example: 46 })
  tokensTotal!: number;

  @ApiProperty({ example: false })
  tokensEstimated!: boolean;

  @ApiProperty({ example: 180 })
  characters!: number;

  @ApiProperty({ example: 180 })
  charactersTotal!: number;

  @ApiProperty({ example: 1 })
  embeddedTexts!: number;

  @ApiProperty({ example: 0 })
  cachedTexts!: number;
}

/** A document's status (never its text). */
export class SliceProgressView {
  @ApiProperty({ example: 512 })
  chunksEmbedded!: number;

  @ApiProperty({ example: 4096 })
  chunksTotal!: number;
}

export class DocumentResponse {
  @ApiProperty({ format: 'uuid', example: ID_EXAMPLE })
  id!: string;

  @ApiProperty({ example: 'demo' })
  namespace!: string;

  @ApiProperty({ type: String, nullable: true, example: 'ops-1' })
  externalId!: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'Ops handbook' })
  title!: string | null;

  @ApiProperty({ type: 'object', additionalProperties: true, example: { team: 'ops' } })
  metadata!: Record<string, unknown>;

  @ApiProperty({ enum: DOCUMENT_STATUSES, example: 'ready' })
  status!: string;

  @ApiProperty({ example: 1 })
  version!: number;

  @ApiProperty({ example: 1 })
  attempts!: number;

  @ApiProperty({ type: Number, nullable: true, example: 1 })
  chunkCount!: number | null;

  @ApiProperty({
    type: SliceProgressView,
    nullable: true,
    description: 'while a large document is embedded in slices (SLICE_THRESHOLD_CHARS): chunks embedded so far of its total',
  })
  progress!: SliceProgressView | null;

  @ApiProperty({ type: String, nullable: true, example: null })
  lastError!: string | null;

  @ApiProperty({ type: String, nullable: true, example: null })
  lastErrorClass!: string | null;

  @ApiProperty({ type: String, nullable: true, example: null })
  failedStage!: string | null;

  @ApiProperty({ example: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08' })
  contentSha256!: string;

  @ApiProperty({ example: 180 })
  contentLength!: number;

  @ApiProperty({ type: ChunkingView })
  chunking!: ChunkingView;

  @ApiProperty({ type: String, nullable: true, example: 'all-MiniLM-L6-v2', description: 'the model of its searchable chunks' })
  model!: string | null;

  @ApiProperty({ type: EmbeddingCostView })
  embedding!: EmbeddingCostView;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  startedAt!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  completedAt!: string | null;
}

export class AttemptResponse {
  @ApiProperty({ example: 1 })
  version!: number;

  @ApiProperty({ example: 1 })
  attempt!: number;

  @ApiProperty({ format: 'date-time' })
  startedAt!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  finishedAt!: string | null;

  @ApiProperty({ example: 'ready' })
  outcome!: string;

  @ApiProperty({ type: String, nullable: true, example: null, description: 'claim, load, split, embed or write' })
  stage!: string | null;

  @ApiProperty({ type: String, nullable: true, example: null })
  errorClass!: string | null;

  @ApiProperty({ type: String, nullable: true, example: null })
  error!: string | null;
}

/** `GET /v1/documents/:id`: the status with its last 20 attempts. */
export class DocumentWithHistoryResponse extends DocumentResponse {
  @ApiProperty({ type: [AttemptResponse] })
  history!: AttemptResponse[];
}

export class DocumentPageResponse {
  @ApiProperty({ type: [DocumentResponse] })
  items!: DocumentResponse[];

  @ApiProperty({ type: String, nullable: true, example: null, description: 'pass as `cursor` for the next page; null on the last' })
  nextCursor!: string | null;
}

/** One stored chunk of a document. */
export class ChunkResponse {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 0 })
  index!: number;

  @ApiProperty({ example: '# Backups\n\nRun the nightly backup with pg_dump and keep seven days of archives.' })
  content!: string;

  @ApiProperty({ type: String, nullable: true, example: 'Ops handbook > Backups', description: 'title and heading path' })
  context!: string | null;

  @ApiProperty({ type: 'object', additionalProperties: true, example: { team: 'ops' } })
  metadata!: Record<string, unknown>;

  @ApiProperty({ example: 'all-MiniLM-L6-v2' })
  model!: string;

  @ApiPropertyOptional({ type: [Number], description: 'only with `includeVectors=true`', example: [0.0132, -0.0871, 0.0415] })
  vector?: number[];
}

/** `GET /v1/documents/:id/chunks`. */
export class ChunkPageResponse {
  @ApiProperty({ type: [ChunkResponse] })
  items!: ChunkResponse[];

  @ApiProperty({ type: String, nullable: true, example: 'MjA', description: 'pass as `cursor` for the next page; null on the last' })
  nextCursor!: string | null;
}

/** `GET /v1/namespaces/:namespace/usage`. */
export class NamespaceUsageResponse {
  @ApiProperty({ example: 'demo' })
  namespace!: string;

  @ApiProperty({ example: 12 })
  documents!: number;

  @ApiProperty({ example: 340 })
  chunks!: number;

  @ApiProperty({ example: 51234 })
  embeddingTokens!: number;

  @ApiProperty({ example: 204936 })
  embeddingCharacters!: number;

  @ApiProperty({ example: false })
  tokensEstimated!: boolean;
}
