/**
 * The one logger setup of `tokenplane serve` and `tokenplane operator`: readable
 * lines (pino-pretty) when stdout is a terminal, JSON lines otherwise (for log
 * collectors), `--log-format` / TOKENPLANE_LOG_FORMAT to choose. Both formats
 * go through pino's redaction first, so a secret is blanked before either sees it.
 *
 * Two layers: REDACT_PATHS blanks the fields that hold credentials; then every
 * line is scanned before it is written, and anything in our secret formats
 * (the scanner pattern: `tpt_`, `tpp_`, `tpk_`, `tpadm_` values; `whsec_` webhook
 * secrets), equal to a configured credential, or shaped like a generated key
 * (KEY_RUN) is blanked wherever it sits — a token in a query string, a key in
 * a header, an error message quoting either — percent-encoded or not.
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { SECRET_PATTERN, WEBHOOK_SECRET_PATTERN } from './domain/secret-format.ts';

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
  /**
   * Credentials of any format to blank wherever they appear (default: the
   * TOKENPLANE_ADMIN_KEY, TOKENPLANE_ENCRYPTION_KEY and TOKENPLANE_API_KEY set).
   */
  secrets?: readonly (string | undefined)[];
};

/** The credential settings whose values are blanked in every line by default. */
const CREDENTIAL_SETTINGS = [
  'TOKENPLANE_ADMIN_KEY',
  'TOKENPLANE_ENCRYPTION_KEY',
  'TOKENPLANE_API_KEY',
];

/**
 * A log line with every secret blanked: values in our formats keep their
 * prefix (`tpt_[redacted]`, so a reader still sees which kind leaked), given
 * literals (and their JSON-escaped forms) become `[redacted]`.
 */
export function redactSecretText(line: string, literals: readonly string[] = []): string {
  const redact = (text: string) => redactKeyRuns(redactKnown(text, literals));
  if (!line.includes('%')) return redact(line);
  // `%74%70%74%5F…` is `tpt_…`: a run that hides a secret is written decoded and redacted.
  return redact(
    line.replace(PERCENT_ENCODED_RUN, (run) => {
      const decoded = percentDecoded(run);
      const redacted = redact(decoded);
      return redacted === decoded ? run : redacted;
    }),
  );
}

function redactKnown(text: string, literals: readonly string[]): string {
  const keepPrefix = (found: string) => `${found.slice(0, found.indexOf('_'))}_[redacted]`;
  let out = text.replace(SECRET_PATTERN, keepPrefix).replace(WEBHOOK_SECRET_PATTERN, keepPrefix);
  for (const literal of literals) {
    if (out.includes(literal)) out = out.split(literal).join('[redacted]');
  }
  return out;
}

/**
 * Key material in the forms people generate it — our encryption key (32 random
 * bytes, base64url: 43 characters), `openssl rand -base64 32`, `openssl rand
 * -hex 32` — has no prefix to find it by. Runs of base64 or hex characters that
 * look random enough are blanked: 32+ characters mixing upper and lower case
 * (a random one lacks either with a chance of 1 in 10^10), or 48+ hexadecimal
 * digits (long enough to spare 32-digit trace ids and 40-digit commit ids).
 * A run that holds `/` but no `+` or padding is a path, judged segment by segment.
 */
const KEY_RUN = /[A-Za-z0-9+/_-]{32,}={0,2}/g;

function redactKeyRuns(text: string): string {
  return text.replace(KEY_RUN, (run) =>
    run.includes('/') && !/[+=]/.test(run)
      ? run
          .split('/')
          .map((segment) => (looksLikeKey(segment) ? '[redacted]' : segment))
          .join('/')
      : looksLikeKey(run)
        ? '[redacted]'
        : run,
  );
}

function looksLikeKey(run: string): boolean {
  if (run.length >= 48 && /^[0-9a-fA-F]+$/.test(run)) return true;
  return run.length >= 32 && /[a-z]/.test(run) && /[A-Z]/.test(run);
}

/** URL characters around at least one %XX escape. */
const PERCENT_ENCODED_RUN = /[\w.~+/=%-]*%[0-9A-Fa-f]{2}[\w.~+/=%-]*/g;

/** Percent-decoded, repeatedly (`%2574` → `%74` → `t`); escapes that are not UTF-8 read as single bytes. */
function percentDecoded(run: string): string {
  let text = run;
  for (let round = 0; round < 3 && /%[0-9A-Fa-f]{2}/.test(text); round++) {
    try {
      text = decodeURIComponent(text);
    } catch {
      text = text.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) =>
        String.fromCharCode(Number.parseInt(hex, 16)),
      );
    }
  }
  return text;
}

function literalsOf(secrets: readonly (string | undefined)[]): string[] {
  const given = secrets.filter((s): s is string => typeof s === 'string' && s.length >= 8);
  return [...new Set(given.flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]))];
}

/** The `--log-format` value (or TOKENPLANE_LOG_FORMAT); throws a message naming the choices. */
export function parseLogFormat(text: string | undefined): LogFormat {
  if (text === undefined || text === '') return 'auto';
  if ((LOG_FORMATS as readonly string[]).includes(text)) return text as LogFormat;
  throw new Error(`--log-format must be one of ${LOG_FORMATS.join(', ')} (got "${text}")`);
}

export function createLogger(o: LoggerOptions = {}): Logger {
  const literals = literalsOf(o.secrets ?? CREDENTIAL_SETTINGS.map((name) => process.env[name]));
  const config = {
    ...(o.name ? { name: o.name } : {}),
    level: o.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    hooks: { streamWrite: (line: string) => redactSecretText(line, literals) },
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

/** What LogThrottle writes to: pino's and fastify's loggers alike. */
type LevelLogger = Record<'warn' | 'error', (obj: Record<string, unknown>, msg: string) => void>;

/**
 * Keeps a failure that repeats (the database gone, every request's audit write
 * failing) from flooding the log: at most one line per message per interval;
 * the next line that gets through carries `suppressed`, the count held back.
 */
export class LogThrottle {
  readonly #intervalMs: number;
  readonly #clock: () => number;
  readonly #seen = new Map<string, { at: number; suppressed: number }>();

  constructor(intervalMs = 60_000, clock: () => number = Date.now) {
    this.#intervalMs = intervalMs;
    this.#clock = clock;
  }

  write(
    log: LevelLogger,
    level: 'warn' | 'error',
    obj: Record<string, unknown>,
    msg: string,
  ): void {
    const now = this.#clock();
    const seen = this.#seen.get(msg);
    if (seen && now - seen.at < this.#intervalMs) {
      seen.suppressed++;
      return;
    }
    this.#seen.set(msg, { at: now, suppressed: 0 });
    log[level](seen?.suppressed ? { ...obj, suppressed: seen.suppressed } : obj, msg);
  }
}
