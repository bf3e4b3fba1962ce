import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional } from 'class-validator';
import { PageQuery } from '../../../common/page.query';

/** Query of `GET /v1/documents/:id/chunks`. */
export class DocumentChunksQuery extends PageQuery {
  @ApiPropertyOptional({ type: Boolean, default: false, description: 'include each chunk\'s embedding vector' })
  @IsOptional()
  // A query string is text: only the words true and false are booleans here.
  @Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean({ message: 'includeVectors must be true or false' })
  includeVectors?: boolean;
}

/** A chunk cursor: the index of the last chunk of the previous page. */
export function encodeChunkCursor(index: number): string {
  return Buffer.from(String(index), 'utf8').toString('base64url');
}

/** Null when the cursor is not one this service handed out. */
export function decodeChunkCursor(cursor: string): number | null {
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  return /^\d{1,9}$/.test(decoded) ? Number(decoded) : null;
}
