import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { KeyView } from '../keys.service';

class KeyRateLimitResponse {
  @ApiPropertyOptional({ type: Number, nullable: true, description: 'null: RATE_LIMIT_WRITE_PER_MIN applies' })
  writePerMin!: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true, description: 'null: RATE_LIMIT_SEARCH_PER_MIN applies' })
  searchPerMin!: number | null;
}

/** An API key as listed: never its secret. */
export class KeyResponse implements KeyView {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'search service' })
  name!: string;

  @ApiProperty({ example: 'ik_live_ab12', description: 'the start of the key, for telling keys apart' })
  prefix!: string;

  @ApiProperty({ type: [String], example: ['docs'] })
  namespaces!: string[];

  @ApiProperty({ type: [String], example: ['search'] })
  scopes!: string[];

  @ApiProperty({ type: KeyRateLimitResponse })
  rateLimit!: KeyRateLimitResponse;

  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true })
  expiresAt!: string | null;

  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true })
  revokedAt!: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;
}

/** A new key: the only answer that holds its secret. */
export class CreatedKeyResponse extends KeyResponse {
  @ApiProperty({ example: 'ik_live_ab12…', description: 'the key itself, shown once; only its hash is stored' })
  key!: string;
}

export class KeyListResponse {
  @ApiProperty({ type: [KeyResponse] })
  items!: KeyResponse[];
}
