import { HttpException, HttpStatus } from '@nestjs/common';

/** The one shape of every error answer. */
export interface ErrorBody {
  statusCode: number;
  /** The HTTP reason phrase, e.g. "Bad Request". */
  error: string;
  /** What went wrong, in one sentence a caller can act on. */
  message: string;
  /** Structured extras: each validation failure, a correlation id, what an exception carried besides its message. */
  details?: unknown;
}

/** "Bad Request" from 400, "Payload Too Large" from 413; a generic phrase for codes Nest does not name. */
export function reasonPhrase(statusCode: number): string {
  const name = HttpStatus[statusCode] as string | undefined;
  if (name === undefined) return statusCode >= 500 ? 'Server Error' : 'Error';
  return name
    .toLowerCase()
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join(' ');
}

/**
 * An HttpException as an ErrorBody. Nest's own bodies are `{ statusCode, message, error }` with `message` a
 * string or (from the ValidationPipe) a list: a list becomes one sentence here and stays whole in `details`.
 * Any other field an exception carried is kept in `details`, never dropped.
 */
export function errorBodyOf(err: HttpException): ErrorBody {
  const statusCode = err.getStatus();
  const response = err.getResponse();
  const error = reasonPhrase(statusCode);
  if (typeof response === 'string') return { statusCode, error, message: response };
  const { message, error: phrase, statusCode: _code, details, ...rest } = response as Record<string, unknown>;
  const extras: Record<string, unknown> = { ...rest };
  // Nest puts the reason phrase in `error`; anything else there is data worth keeping.
  if (phrase !== undefined && typeof phrase !== 'string') extras.error = phrase;
  let text: string;
  if (Array.isArray(message)) {
    text = message.map(String).join('; ');
    extras.errors = message;
  } else {
    text = typeof message === 'string' && message !== '' ? message : err.message || error;
  }
  if (details !== undefined && Object.keys(extras).length === 0) return { statusCode, error, message: text, details };
  if (details !== undefined) extras.details = details;
  return Object.keys(extras).length > 0 ? { statusCode, error, message: text, details: extras } : { statusCode, error, message: text };
}
