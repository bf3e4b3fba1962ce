import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsDefined,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidationOptions,
  registerDecorator,
} from 'class-validator';
import { IsOptionalNamespace } from '../../../common/namespace';
import { KeepRawJson } from '../../../common/edge/keep-raw-json';
import { MetadataFilter, SearchMode } from '../../chunk.repository';

export const SEARCH_MODES: readonly SearchMode[] = ['hybrid', 'vector', 'keyword'];
export const GROUP_BY = ['chunk', 'document'] as const;
export type GroupBy = (typeof GROUP_BY)[number];

const MAX_FILTER_KEYS = 20;
const MAX_IN_VALUES = 100;
/**
 * Most key/value combinations a filter may name (the product of its `$in` sizes): each is
 * a separate probe of the metadata index, and 2 keys x 100 values took seconds.
 */
const MAX_FILTER_COMBINATIONS = 100;
/** Longest query, in characters: a question, not a document. */
export const MAX_QUERY_LENGTH = 2000;

function isScalar(v: unknown): v is string | number | boolean {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

/** Why a filter is not a valid `MetadataFilter`, or null when it is. */
export function metadataFilterProblem(value: unknown): string | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'filter must be an object';
  const entries = Object.entries(value);
  if (entries.length > MAX_FILTER_KEYS) return `filter may have at most ${MAX_FILTER_KEYS} keys`;
  let combinations = 1;
  for (const [key, cond] of entries) {
    if (key.length === 0 || key.length > 200) return 'filter keys must be 1-200 characters';
    if (isScalar(cond)) continue;
    const isIn =
      cond !== null && typeof cond === 'object' && !Array.isArray(cond) && Object.keys(cond).length === 1 && '$in' in cond;
    const values = isIn ? (cond as { $in: unknown }).$in : undefined;
    if (!Array.isArray(values) || values.length === 0 || values.length > MAX_IN_VALUES || !values.every(isScalar)) {
      return `filter.${key} must be a string, number or boolean, or { "$in": [1-${MAX_IN_VALUES} such values] }`;
    }
    combinations *= values.length;
    if (combinations > MAX_FILTER_COMBINATIONS) {
      return `filter names more than ${MAX_FILTER_COMBINATIONS} combinations of values (the product of its "$in" list sizes): narrow it`;
    }
  }
  return null;
}

function IsMetadataFilter(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'isMetadataFilter',
      target: target.constructor,
      propertyName: String(propertyName),
      options,
      validator: {
        validate: (value: unknown) => metadataFilterProblem(value) === null,
        defaultMessage: (args) => metadataFilterProblem(args?.value) ?? 'filter is invalid',
      },
    });
  };
}

/** Body of `POST /v1/search`. */
export class SearchDto {
  @ApiProperty({ maxLength: 10000, example: 'how do I bring a database back from a dump?' })
  @IsDefined({ message: 'query is required' })
  @IsString({ message: 'query must be a string' })
  @Matches(/\S/, { message: 'query must contain text' })
  @Matches(/^[^\u0000]*$/, { message: 'query must not contain NUL (\\u0000) characters' })
  @MaxLength(MAX_QUERY_LENGTH, { message: `query must be at most ${MAX_QUERY_LENGTH} characters` })
  query!: string;

  @ApiPropertyOptional({ example: 'demo', default: 'default' })
  @IsOptionalNamespace()
  namespace?: string;

  /** Upper bound is checked against the configured SEARCH_MAX_TOP_K by the service. */
  @ApiPropertyOptional({ type: 'integer', minimum: 1, example: 3, description: 'results; default SEARCH_DEFAULT_TOP_K, at most SEARCH_MAX_TOP_K' })
  @IsOptional()
  @IsInt({ message: 'topK must be a whole number' })
  @Min(1)
  topK?: number;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    example: { team: 'ops', lang: { $in: ['en', 'de'] } },
    description: 'metadata equal to a value, or `{ "$in": [values] }`',
  })
  @IsOptional()
  @IsMetadataFilter()
  @KeepRawJson()
  filter?: MetadataFilter;

  /** `hybrid` (default) fuses vector and keyword ranks; `vector` or `keyword` use one list. */
  @ApiPropertyOptional({ enum: SEARCH_MODES, default: 'hybrid' })
  @IsOptional()
  @IsIn(SEARCH_MODES, { message: `mode must be one of ${SEARCH_MODES.join(', ')}` })
  mode?: SearchMode;

  /** `document` returns each document once (topK documents), with its best chunks. */
  @ApiPropertyOptional({ enum: GROUP_BY, default: 'chunk' })
  @IsOptional()
  @IsIn(GROUP_BY, { message: `groupBy must be one of ${GROUP_BY.join(', ')}` })
  groupBy?: GroupBy;

  /** With `groupBy: "document"`: best chunks listed per document (default 3). */
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 20, default: 3 })
  @IsOptional()
  @IsInt({ message: 'chunksPerDocument must be a whole number' })
  @Min(1)
  @Max(20)
  chunksPerDocument?: number;
}
