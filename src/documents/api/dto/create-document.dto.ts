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
import { IsOptionalNamespace } from '../../../common/namespace';
import { IsPlainJsonObject } from '../../../common/is-plain-json-object';
import { KeepRawJson } from '../../../common/edge/keep-raw-json';

// Postgres text cannot hold U+0000; refusing it here keeps it a 400, not a failed insert.
const NO_NUL = /^[^\u0000]*$/;

/** Per-document override of the chunking settings, in characters. */
export class ChunkingDto {
  @IsInt({ message: 'chunking.size must be a whole number of characters' })
  @Min(50)
  @Max(100000)
  size!: number;

  @IsInt({ message: 'chunking.overlap must be a whole number of characters' })
  @Min(0)
  @Max(99999)
  overlap!: number;
}

/** Body of `POST /v1/documents`. */
export class CreateDocumentDto {
  @IsDefined({ message: 'content is required' })
  @IsString({ message: 'content must be a string' })
  @Matches(/\S/, { message: 'content must contain text, not only whitespace' })
  @Matches(NO_NUL, { message: 'content must not contain NUL (\\u0000) characters' })
  content!: string;

  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(512)
  @Matches(NO_NUL, { message: 'externalId must not contain NUL (\\u0000) characters' })
  externalId?: string;

  @IsOptionalNamespace()
  namespace?: string;

  @IsOptional()
  @IsString()
  @MaxLength(1000)
  @Matches(NO_NUL, { message: 'title must not contain NUL (\\u0000) characters' })
  title?: string;

  @IsOptional()
  @IsPlainJsonObject()
  @KeepRawJson()
  metadata?: Record<string, unknown>;

  @IsOptional()
  @IsObject({ message: 'chunking must be an object { size, overlap }' })
  @ValidateNested()
  @Type(() => ChunkingDto)
  chunking?: ChunkingDto;
}
