/**
 * Request logging at `debug`: one line per request at `info` (≈350 bytes, a
 * 401 flood included) filled disks for no reader. Refusals stay countable in
 * `/metrics` (tokenplane_problems_total by slug); TOKENPLANE_LOG_LEVEL=debug
 * brings the request lines back. Requests that failed with an error still log
 * at `error`.
 *
 * One short line per request, when it completes: method, path, status, time.
 * Never the query string (it may carry a secret) nor the whole request object.
 */
import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { Bindings, ChildLoggerOptions, Logger } from 'pino';
import { redactSecretText } from '../../core/logging.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A path segment logged as sent: a route word, a metric or tier name, an id. */
const PLAIN_SEGMENT = /^[A-Za-z0-9._~-]{0,32}$/;

/**
 * The path as logged: each segment decoded (`%74%70%74%5F…` is `tpt_…`), and
 * one that is neither a UUID nor a short plain word — a token, an access key,
 * an encryption key someone pasted into a URL — replaced by `[redacted]`
 * (after its kind's prefix, `tpt_[redacted]`, when it has one).
 */
export function loggedPath(url: string): string {
  // A webhook secret is base64 and may hold `/`: redacted whole before the path is split.
  return redactSecretText(url.split('?')[0] ?? '')
    .split('/')
    .map((segment) => {
      let decoded: string;
      try {
        decoded = decodeURIComponent(segment);
      } catch {
        return '[redacted]';
      }
      if (
        UUID.test(decoded) ||
        (PLAIN_SEGMENT.test(decoded) && !/_[0-9A-Za-z]{20,}/.test(decoded))
      ) {
        return decoded;
      }
      // A value's kind stays visible (`tpt_[redacted]`), as in every other log line.
      const kind = /^([a-z]{2,8})_/.exec(decoded)?.[1];
      return kind ? `${kind}_[redacted]` : '[redacted]';
    })
    .join('/');
}

/** `GET /v1/entities 200 1.8 ms` */
function requestLine(request: FastifyRequest, reply: FastifyReply): string {
  return `${request.method} ${loggedPath(request.url)} ${reply.statusCode} ${reply.elapsedTime.toFixed(1)} ms`;
}

export class RequestLog extends LogController {
  override incomingRequest(): void {
    // Nothing: the completed line says it all.
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (this.isLogDisabled(request)) return;
    if (error) reply.log.error({ err: error }, requestLine(request, reply));
    // The line is built only when it is written: at `info` it never is.
    else if ((reply.log as Logger).isLevelEnabled('debug'))
      reply.log.debug(requestLine(request, reply));
  }
}

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * A request's logger (`request.log`), bound to its id, that makes pino's child
 * logger only when the request writes a line. pino's child() costs about 13 µs,
 * a fifth of a token-authenticated request, and most requests write nothing
 * (measured: `npm run bench`).
 */
class LazyRequestLogger {
  readonly #parent: Logger;
  readonly #bindings: Bindings;
  readonly #options: ChildLoggerOptions;
  #child: Logger | undefined;

  constructor(parent: Logger, bindings: Bindings, options: ChildLoggerOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  #logger(): Logger {
    this.#child ??= this.#parent.child(this.#bindings, this.#options);
    return this.#child;
  }

  #write(level: Level, args: unknown[]): void {
    if (!this.isLevelEnabled(level)) return;
    (this.#logger()[level] as (...a: unknown[]) => void)(...args);
  }

  get level(): string {
    return (this.#child ?? this.#parent).level;
  }

  set level(level: string) {
    this.#logger().level = level;
  }

  isLevelEnabled(level: string): boolean {
    return (this.#child ?? this.#parent).isLevelEnabled(level);
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): Logger {
    return this.#logger().child(bindings, options);
  }

  fatal(...args: unknown[]): void {
    this.#write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.#write('error', args);
  }
  warn(...args: unknown[]): void {
    this.#write('warn', args);
  }
  info(...args: unknown[]): void {
    this.#write('info', args);
  }
  debug(...args: unknown[]): void {
    this.#write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.#write('trace', args);
  }
  silent(): void {}
}

/** The bindings key of a request's logger (fastify's `requestIdLogLabel`, default). */
const REQUEST_ID_LABEL = 'reqId';

/**
 * The app's logger (fastify's `loggerInstance`): the given pino logger, whose
 * children for requests (bound to the request id, without a log level of
 * their own) are LazyRequestLoggers. Not a `childLoggerFactory`: fastify checks
 * each logger such a factory returns for its seven methods, on every request
 * (3 % of a token-authenticated request's instructions, measured with callgrind).
 */
export function lazyRequestLoggers(logger: Logger): Logger {
  const app = Object.create(logger) as Logger;
  app.child = ((bindings: Bindings, options?: ChildLoggerOptions): Logger =>
    REQUEST_ID_LABEL in bindings && options?.level === undefined
      ? (new LazyRequestLogger(logger, bindings, options ?? {}) as unknown as Logger)
      : lazyRequestLoggers(logger.child(bindings, options))) as unknown as Logger['child'];
  return app;
}
