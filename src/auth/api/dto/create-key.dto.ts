import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsDefined,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { NAMESPACE_PATTERN } from '../../../common/namespace';
import { SCOPES, Scope } from '../../scopes';

// A namespace, or `*` for every namespace.
const NAMESPACE_OR_ALL = new RegExp(`^(\\*|${NAMESPACE_PATTERN.source.slice(1, -1)})$`);

/** Per-key budgets, replacing RATE_LIMIT_WRITE_PER_MIN / RATE_LIMIT_SEARCH_PER_MIN; 0 turns one off. */
export class KeyRateLimitDto {
  @ApiPropertyOptional({ minimum: 0, example: 600 })
  @IsOptional()
  @IsInt({ message: 'rateLimit.writePerMin must be a whole number' })
  @Min(0)
  @Max(1000000)
  writePerMin?: number;

  @ApiPropertyOptional({ minimum: 0, example: 1200 })
  @IsOptional()
  @IsInt({ message: 'rateLimit.searchPerMin must be a whole number' })
  @Min(0)
  @Max(1000000)
  searchPerMin?: number;
}

/** Body of `POST /v1/keys`. */
export class CreateKeyDto {
  @ApiProperty({ example: 'search service' })
  @IsDefined({ message: 'name is required' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name!: string;

  @ApiProperty({ type: [String], example: ['docs'], description: 'namespaces the key may touch, or ["*"] for all' })
  @IsDefined({ message: 'namespaces is required: a list of namespaces, or ["*"] for all' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @ArrayUnique()
  @IsString({ each: true })
  @Matches(NAMESPACE_OR_ALL, { each: true, message: 'each of namespaces must be a namespace name or "*"' })
  namespaces!: string[];

  @ApiProperty({ enum: SCOPES, isArray: true, example: ['search'] })
  @IsDefined({ message: `scopes is required: any of ${SCOPES.join(', ')}` })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsIn(SCOPES, { each: true, message: `each of scopes must be one of ${SCOPES.join(', ')}` })
  scopes!: Scope[];

  @ApiPropertyOptional({ type: KeyRateLimitDto, description: 'per-minute budgets replacing the defaults' })
  @IsOptional()
  @ValidateNested()
  @Type(() => KeyRateLimitDto)
  rateLimit?: KeyRateLimitDto;

  @ApiPropertyOptional({ format: 'date-time', description: 'the key stops working then' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'expiresAt must be an ISO 8601 date-time' })
  expiresAt?: string;
}
