import { ApiProperty } from '@nestjs/swagger';

// Response shapes of /v1/dead-letters for the OpenAPI document.

class JobPayloadView {
  @ApiProperty({ format: 'uuid' })
  documentId!: string;

  @ApiProperty({ example: 2 })
  version!: number;
}

class DeadLetterAttemptView {
  @ApiProperty({ example: 5 })
  attempt!: number;

  @ApiProperty({ format: 'date-time' })
  at!: string;

  @ApiProperty({ example: 'failed' })
  outcome!: string;

  @ApiProperty({ type: String, nullable: true, example: 'embed' })
  stage!: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'upstream_4xx' })
  errorClass!: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'embedding API answered 400' })
  error!: string | null;
}

export class DeadLetterResponse {
  @ApiProperty({ format: 'uuid', description: "the document's id" })
  id!: string;

  @ApiProperty({ format: 'uuid' })
  documentId!: string;

  @ApiProperty({ example: 'demo' })
  namespace!: string;

  @ApiProperty({ type: String, nullable: true, example: 'ops-1' })
  externalId!: string | null;

  @ApiProperty({ type: JobPayloadView, description: 'the job payload that failed' })
  payload!: JobPayloadView;

  @ApiProperty({ type: String, nullable: true, example: 'upstream_4xx' })
  errorClass!: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'embedding API answered 400' })
  error!: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'embed' })
  stage!: string | null;

  @ApiProperty({ example: 5 })
  attempts!: number;

  @ApiProperty({ format: 'date-time' })
  failedAt!: string;

  @ApiProperty({ type: [DeadLetterAttemptView] })
  history!: DeadLetterAttemptView[];
}

export class DeadLetterPageResponse {
  @ApiProperty({ type: [DeadLetterResponse] })
  items!: DeadLetterResponse[];

  @ApiProperty({ type: String, nullable: true, example: null })
  nextCursor!: string | null;
}

export class RequeuedResponse {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'queued' })
  status!: string;

  @ApiProperty({ example: 3 })
  version!: number;
}

export class RequeuedManyResponse {
  @ApiProperty({ example: 2 })
  requeued!: number;

  @ApiProperty({ type: [String], example: ['cad83bc7-4b1e-4d33-9c7a-5f2f0e3c6a10', 'f0e1d2c3-b4a5-4968-8776-655443322110'] })
  ids!: string[];
}
