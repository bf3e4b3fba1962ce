import { applyDecorators } from '@nestjs/common';
import { IsOptional, IsString, Matches } from 'class-validator';

/** Namespaces partition documents and search; kept to a safe, URL-friendly alphabet. */
export const NAMESPACE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const NAMESPACE_RULE = 'must be 1-128 characters of letters, digits, ".", "_" or "-", starting with a letter or digit';
export const DEFAULT_NAMESPACE = 'default';

/** An optional `namespace` field of a request, validated against NAMESPACE_PATTERN. */
export function IsOptionalNamespace(): PropertyDecorator {
  return applyDecorators(IsOptional(), IsString(), Matches(NAMESPACE_PATTERN, { message: `namespace ${NAMESPACE_RULE}` }));
}
