import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { IsOptionalNamespace } from '../../../common/namespace';
import { NamespacePageQuery } from '../../../common/page.query';

/** Query of `GET /v1/dead-letters`. */
export class ListDeadLettersQuery extends NamespacePageQuery {
  @ApiPropertyOptional({ maxLength: 64, example: 'upstream_4xx' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  errorClass?: string;
}

/** Body of `POST /v1/dead-letters/retry`: which dead letters to re-queue. */
export class RetryDeadLettersDto {
  @ApiPropertyOptional({ example: 'demo' })
  @IsOptionalNamespace()
  namespace?: string;

  @ApiPropertyOptional({ maxLength: 64, example: 'upstream_4xx' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  errorClass?: string;

  /** At most this many are re-queued per call (default 1000). */
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 10000, default: 1000 })
  @IsOptional()
  @IsInt({ message: 'limit must be a whole number' })
  @Min(1)
  @Max(10000)
  limit?: number;
}
