/**
 * The one logger setup of `tokenplane serve` and `tokenplane operator`: readable
 * lines (pino-pretty) when stdout is a terminal, JSON lines otherwise (for log
 * collectors), `--log-format` / TOKENPLANE_LOG_FORMAT to choose. Both formats
 * go through pino's redaction first, so a secret is blanked before either sees it.
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

export const LOG_FORMATS = ['auto', 'pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Paths pino blanks out wherever they appear: no secret ever reaches a log line. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["idempotency-key"]',
  'headers.authorization',
  'authorization',
  'value',
  'key',
  'token',
  'apiKey',
  'adminKey',
  'encryptionKey',
  '*.value',
  '*.key',
  '*.token',
  '*.apiKey',
  '*.adminKey',
  '*.encryptionKey',
  '*.authorization',
];

export type LoggerOptions = {
  /** Shown on every line (`tokenplane-operator`). */
  name?: string;
  /** pino level (default info). */
  level?: string;
  /** `auto` (default): pretty on a terminal, JSON otherwise. */
  format?: LogFormat;
  /** Where lines go (default stdout). */
  stream?: DestinationStream;
  /** Whether that destination is a terminal (default: whether stdout is). */
  isTTY?: boolean;
};

/** The `--log-format` value (or TOKENPLANE_LOG_FORMAT); throws a message naming the choices. */
export function parseLogFormat(text: string | undefined): LogFormat {
  if (text === undefined || text === '') return 'auto';
  if ((LOG_FORMATS as readonly string[]).includes(text)) return text as LogFormat;
  throw new Error(`--log-format must be one of ${LOG_FORMATS.join(', ')} (got "${text}")`);
}

export function createLogger(o: LoggerOptions = {}): Logger {
  const config = {
    ...(o.name ? { name: o.name } : {}),
    level: o.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  const tty = o.isTTY ?? process.stdout.isTTY === true;
  const format =
    o.format === 'auto' || o.format === undefined ? (tty ? 'pretty' : 'json') : o.format;
  if (format === 'json') return o.stream ? pino(config, o.stream) : pino(config);
  return pino(
    config,
    pretty({
      colorize: tty,
      // One line per entry: request logs and error details stay beside their message.
      singleLine: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
      // Synchronous, so the last lines before an exit are never lost.
      sync: true,
      ...(o.stream ? { destination: o.stream } : {}),
    }),
  );
}
