import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsDefined,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { DEFAULT_NAMESPACE, IsOptionalNamespace, NAMESPACE_PATTERN } from '../../../common/namespace';
import { IsPlainJsonObject } from '../../../common/is-plain-json-object';
import { KeepRawJson } from '../../../common/edge/keep-raw-json';

// Postgres text cannot hold U+0000; refusing it here keeps it a 400, not a failed insert.
const NO_NUL = /^[^\u0000]*$/;

/** Per-document override of the chunking settings, in characters. */
export class ChunkingDto {
  @ApiProperty({ minimum: 50, maximum: 100000, example: 800, description: 'chunk size in characters' })
  @IsInt({ message: 'chunking.size must be a whole number of characters' })
  @Min(50)
  @Max(100000)
  size!: number;

  @ApiProperty({ minimum: 0, maximum: 99999, example: 100, description: 'characters shared by neighbouring chunks; below size' })
  @IsInt({ message: 'chunking.overlap must be a whole number of characters' })
  @Min(0)
  @Max(99999)
  overlap!: number;
}

/** Body of `POST /v1/documents`. */
export class CreateDocumentDto {
  @ApiProperty({
    description: 'the text (Markdown headings give chunks their heading path)',
    example: '# Backups\n\nRun the nightly backup with pg_dump and keep seven days of archives.',
  })
  @IsDefined({ message: 'content is required' })
  @IsString({ message: 'content must be a string' })
  @Matches(/\S/, { message: 'content must contain text, not only whitespace' })
  @Matches(NO_NUL, { message: 'content must not contain NUL (\\u0000) characters' })
  content!: string;

  @ApiPropertyOptional({ minLength: 1, maxLength: 512, example: 'ops-1', description: 'your id: the same one again makes a new version, or deduplicates' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(512)
  @Matches(NO_NUL, { message: 'externalId must not contain NUL (\\u0000) characters' })
  externalId?: string;

  @ApiPropertyOptional({ pattern: NAMESPACE_PATTERN.source, default: DEFAULT_NAMESPACE, example: 'demo' })
  @IsOptionalNamespace()
  namespace?: string;

  @ApiPropertyOptional({ maxLength: 1000, example: 'Ops handbook' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  @Matches(NO_NUL, { message: 'title must not contain NUL (\\u0000) characters' })
  title?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, example: { team: 'ops' }, description: 'kept with each chunk; search can filter on it' })
  @IsOptional()
  @IsPlainJsonObject()
  @KeepRawJson()
  metadata?: Record<string, unknown>;

  @ApiPropertyOptional({ type: () => ChunkingDto, description: 'overrides the configured chunking for this document, in characters' })
  @IsOptional()
  @IsObject({ message: 'chunking must be an object { size, overlap }' })
  @ValidateNested()
  @Type(() => ChunkingDto)
  chunking?: ChunkingDto;

  /** Called (signed, see Webhooks in the README) when this version is ready or failed. */
  @IsOptional()
  @IsString({ message: 'callbackUrl must be a string' })
  @MaxLength(2048)
  callbackUrl?: string;
}
