import { ValidationOptions, registerDecorator } from 'class-validator';

const MAX_KEYS = 100;
const MAX_BYTES = 64 * 1024;
/** Deepest nesting inside metadata (the object itself is level 1). */
const MAX_DEPTH = 8;

function depthOf(v: unknown): number {
  if (v === null || typeof v !== 'object') return 0;
  const children = Array.isArray(v) ? v : Object.values(v);
  return 1 + children.reduce((d: number, c: unknown) => Math.max(d, depthOf(c)), 0);
}

/** A JSON object (not an array or null) of bounded size, usable as chunk metadata. */
export function IsPlainJsonObject(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'isPlainJsonObject',
      target: target.constructor,
      propertyName: String(propertyName),
      options,
      validator: {
        validate(value: unknown): boolean {
          if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
          if (Object.keys(value).length > MAX_KEYS || depthOf(value) > MAX_DEPTH) return false;
          const json = JSON.stringify(value);
          // Postgres jsonb cannot hold U+0000.
          return json.length <= MAX_BYTES && !json.includes('\\u0000');
        },
        defaultMessage(args): string {
          return `${args?.property ?? 'value'} must be a JSON object with at most ${MAX_KEYS} keys, ${MAX_DEPTH} levels of nesting and ${MAX_BYTES / 1024} KB, without NUL characters`;
        },
      },
    });
  };
}
