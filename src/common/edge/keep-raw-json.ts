import { Transform } from 'class-transformer';

/**
 * Keeps a free-form JSON field exactly as parsed. class-transformer skips keys that name
 * a method of `Object.prototype` (`toString`, `valueOf`, ...) when it copies a plain
 * object, so metadata or a filter with such keys would lose them without a word.
 * Reserved keys (`__proto__`, `constructor`) never get this far: the body check refuses them.
 */
export function KeepRawJson(): PropertyDecorator {
  return Transform(({ obj, key }: { obj: Record<string, unknown>; key: string }) => obj[key]);
}
