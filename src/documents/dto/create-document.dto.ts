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
import { NAMESPACE_PATTERN, NAMESPACE_RULE } from '../../common/namespace';
import { IsPlainJsonObject } from '../../common/is-plain-json-object';

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
  content!: string;

  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(512)
  externalId?: string;

  @IsOptional()
  @IsString()
  @Matches(NAMESPACE_PATTERN, { message: `namespace ${NAMESPACE_RULE}` })
  namespace?: string;

  @IsOptional()
  @IsString()
  @MaxLength(1000)
  title?: string;

  @IsOptional()
  @IsPlainJsonObject()
  metadata?: Record<string, unknown>;

  @IsOptional()
  @IsObject({ message: 'chunking must be an object { size, overlap }' })
  @ValidateNested()
  @Type(() => ChunkingDto)
  chunking?: ChunkingDto;
}
