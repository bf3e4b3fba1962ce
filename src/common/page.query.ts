import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { IsOptionalNamespace, NAMESPACE_PATTERN } from './namespace';

/** Keyset paging shared by list endpoints: `limit` (1-100, default 20) and the `nextCursor` of the previous page. */
export class PageQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be a whole number' })
  @Min(1)
  @Max(100)
  limit?: number;

  @ApiPropertyOptional({ description: 'the `nextCursor` of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200, { message: 'cursor is not valid: pass the nextCursor of a previous page' })
  cursor?: string;
}

/** A page of one namespace's items (all namespaces when absent). */
export class NamespacePageQuery extends PageQuery {
  @ApiPropertyOptional({ pattern: NAMESPACE_PATTERN.source, example: 'demo', description: 'all namespaces when absent' })
  @IsOptionalNamespace()
  namespace?: string;
}
