import { ValidationError } from 'class-validator';

/**
 * class-validator's errors as flat messages, a nested field's prefixed with its path (`chunking.size must
 * ...`), as the global ValidationPipe words them.
 */
export function validationMessages(errors: ValidationError[], parentPath = ''): string[] {
  const messages: string[] = [];
  for (const error of errors) {
    const path = parentPath === '' ? error.property : `${parentPath}.${error.property}`;
    for (const message of Object.values(error.constraints ?? {})) {
      messages.push(parentPath === '' || message.startsWith(`${parentPath}.`) ? message : `${parentPath}.${message}`);
    }
    messages.push(...validationMessages(error.children ?? [], path));
  }
  return messages;
}
