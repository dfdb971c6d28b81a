/**
 * Each request's logger and its line.
 *
 * fastify is given no logger of its own: with one, it makes a child logger
 * and listens for the end of every response (two listeners added and removed
 * per request), 9 % of a token-authenticated request's CPU (`npm run bench`,
 * same run). The first hook gives each request a logger bound to its id
 * (`request.log`, `reply.log`), which fastify's own warnings use as well.
 *
 * Request lines at `debug`: one line per request at `info` (≈350 bytes, a
 * 401 flood included) filled disks for no reader. Refusals stay countable in
 * `/metrics` (tokenplane_problems_total by slug); TOKENPLANE_LOG_LEVEL=debug
 * brings the request lines back. Requests that failed with an error still log
 * at `error` (problems.ts).
 *
 * One short line per request, when it is answered: method, path, status, time.
 * Never the query string (it may carry a secret) nor the whole request object.
 */
import { performance } from 'node:perf_hooks';
import {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
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
  return `${request.method} ${loggedPath(request.url)} ${reply.statusCode} ${(1000 * answeredIn(request)).toFixed(1)} ms`;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** When the request reached its first hook (performance.now(), ms). */
    receivedAt: number;
  }
}

/** Seconds since the request reached its first hook. */
export function answeredIn(request: FastifyRequest): number {
  return (performance.now() - request.receivedAt) / 1000;
}

/**
 * The first hook of every request: its logger and arrival time; at `debug`,
 * its line when it is answered.
 */
export function installRequestLog(app: FastifyInstance, logger: Logger): void {
  app.decorateRequest('receivedAt', 0);
  app.addHook('onRequest', (request, reply, done) => {
    request.receivedAt = performance.now();
    const log = new LazyRequestLogger(logger, {
      reqId: request.id,
    }) as unknown as FastifyBaseLogger;
    request.log = log;
    reply.log = log;
    done();
  });
  if (!logger.isLevelEnabled('debug')) return;
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.log.debug(requestLine(request, reply));
    done(null, payload);
  });
}

/**
 * fastify's log controller, for the messages it writes itself: none when a
 * request arrives or completes (the line above says it all); a reply sent
 * twice, a stream that failed, as fastify writes them.
 */
export class RequestLog extends LogController {
  override incomingRequest(): void {}
  override requestCompleted(): void {}
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
  #child: Logger | undefined;

  constructor(parent: Logger, bindings: Bindings) {
    this.#parent = parent;
    this.#bindings = bindings;
  }

  #logger(): Logger {
    this.#child ??= this.#parent.child(this.#bindings);
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
