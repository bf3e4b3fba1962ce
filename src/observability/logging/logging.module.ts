import { DynamicModule, Module } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import { DestinationStream, stdTimeFunctions } from 'pino';
import PinoPretty from 'pino-pretty';
import type { Options } from 'pino-http';
import { ObservabilityConfig } from '../../config/app-config';
import { logContextFields } from './log-context';
import { requestIdFrom } from './request-id';

/** Headers and fields never written to a log line. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers["proxy-authorization"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.apiKey',
  '*.secret',
  '*.token',
];

// Probes and scrapes every few seconds would drown the lines that matter.
const QUIET_PATHS = ['/health/', '/metrics'];

/** pino-http options: one JSON object per line (LOG_FORMAT=json), else lines for `prettyStream`. */
export function loggerOptions(c: ObservabilityConfig): Options {
  return {
    level: c.logLevel,
    timestamp: stdTimeFunctions.isoTime,
    mixin: logContextFields,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    // The id was settled by the request-context middleware; this only covers a request that skipped it.
    genReqId: (req: IncomingMessage & { id?: unknown }) => (typeof req.id === 'string' ? req.id : requestIdFrom(req.headers['x-request-id'])),
    customAttributeKeys: { reqId: 'requestId' },
    quietReqLogger: true,
    autoLogging: { ignore: (req) => QUIET_PATHS.some((p) => (req.url ?? '').startsWith(p)) },
    // A failed request stands out from the traffic: server errors as errors, bad requests as warnings.
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    // Pretty output keeps pino's numeric levels (pino-pretty names and colours them).
    ...(c.logFormat === 'json' ? { formatters: { level: (label: string) => ({ level: label }) } } : {}),
  };
}

/**
 * Readable lines for a terminal, formatted on the main thread and written synchronously:
 * as a pino transport (a worker thread) nothing reached a piped stdout.
 */
function prettyStream(): DestinationStream {
  return PinoPretty({ singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', sync: true });
}

/** The process's logger (Nest's `Logger` writes through it once `bootstrap` installs it). */
@Module({})
export class LoggingModule {
  static forRoot(c: ObservabilityConfig): DynamicModule {
    const options = loggerOptions(c);
    return { module: LoggingModule, imports: [LoggerModule.forRoot({ pinoHttp: c.logFormat === 'pretty' ? [options, prettyStream()] : options })] };
  }
}
