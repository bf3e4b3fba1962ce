import { ValidationOptions, registerDecorator } from 'class-validator';

const MAX_KEYS = 100;
const MAX_BYTES = 64 * 1024;

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
          if (Object.keys(value).length > MAX_KEYS) return false;
          const json = JSON.stringify(value);
          // Postgres jsonb cannot hold U+0000.
          return json.length <= MAX_BYTES && !json.includes('\\u0000');
        },
        defaultMessage(args): string {
          return `${args?.property ?? 'value'} must be a JSON object with at most ${MAX_KEYS} keys and ${MAX_BYTES / 1024} KB, without NUL characters`;
        },
      },
    });
  };
}
