/**
 * The client's transport: one HTTP exchange with the platform over undici, with a
 * per-attempt timeout, bearer authentication, zod validation of the answer,
 * problem+json mapped to error classes, and retries with full-jitter exponential
 * backoff for calls that are safe to repeat.
 *
 * The credential lives in a private field and goes only into the Authorization
 * header: never into an error, a `cause`, or the inspected form of this object.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { inspect } from 'node:util';
import { type Dispatcher, Pool } from 'undici';
import type { z } from 'zod';
import { signRequest } from '../crypto/http-signatures.ts';
import { Problem } from '../schemas/problem.ts';
import { inSpan, SpanKind, traceHeaders } from '../tracing.ts';
import {
  errorFromResponse,
  TokenplaneConnectionError,
  TokenplaneError,
  TokenplaneResponseError,
} from './errors.ts';

export type TransportOptions = {
  /** Base URL of the platform, e.g. `http://127.0.0.1:8080` (a path prefix is kept). */
  endpoint: string;
  /** Administrator key, access key, or (for analytics) an API token. */
  apiKey: string;
  /**
   * For an API token that requires signed requests: its id. Every request is
   * then signed (RFC 9421, hmac-sha256, keyed by `apiKey`, covering method,
   * path, query and authority, with a fresh created time and nonce per
   * attempt) and the value itself is never sent.
   */
  signingTokenId?: string;
  /** Retries after the first attempt, for calls safe to repeat. Default 3. */
  retries?: number;
  /** Deadline of one attempt (connect, headers and body), ms. Default 10 000. */
  timeoutMs?: number;
  userAgent?: string;
  /** Use this dispatcher instead of an own undici Pool (not closed by `close()`). */
  dispatcher?: Dispatcher;
  /** Backoff base: attempt n waits a random time in [0, min(max, base·2ⁿ)). Default 200 ms. */
  retryBaseMs?: number;
  /** Backoff cap, and the longest Retry-After that is waited for. Default 10 000 ms. */
  retryMaxDelayMs?: number;
};

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export type Call<T> = {
  method: Method;
  /** Path below the endpoint, already encoded, e.g. `/v1/entities/${id}`. */
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  headers?: Record<string, string | undefined>;
  /** Validates the 2xx body; omit for answers without one (204). */
  schema?: z.ZodType<T>;
  /**
   * Whether repeating the call cannot do anything twice. Default: GET, DELETE and
   * PATCH (absolute assignments) are; a POST is when it carries an Idempotency-Key.
   */
  idempotent?: boolean;
};

export type Reply<T> = { status: number; headers: IncomingHttpHeaders; data: T };

export const DEFAULT_RETRIES = 3;
export const DEFAULT_TIMEOUT_MS = 10_000;

/** Full jitter (AWS architecture blog): uniform in [0, min(cap, base·2^attempt)). */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  capMs: number,
  random: () => number = Math.random,
): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** attempt));
}

/** `Retry-After` as milliseconds: delay-seconds or an HTTP-date; undefined when absent or invalid. */
export function parseRetryAfter(
  value: string | string[] | undefined,
  now = Date.now(),
): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Answers worth another attempt: rate limiting and transient server or gateway failures. */
const RETRY_STATUSES = new Set([429, 500, 502, 503, 504]);

/** Errors that prove the request never reached the server, so any call may be retried. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

type Outcome<T> =
  | { ok: true; reply: Reply<T> }
  | {
      ok: false;
      error: Error;
      /** Worth another attempt at all. */
      retryable: boolean;
      /** The server may have acted on it (so a non-idempotent call must not be repeated). */
      maybeApplied: boolean;
      retryAfterMs?: number | undefined;
    };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class Transport {
  readonly #apiKey: string;
  readonly #signingTokenId: string | undefined;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly origin: string;
  readonly basePath: string;
  readonly retries: number;
  readonly timeoutMs: number;
  readonly userAgent: string;
  readonly retryBaseMs: number;
  readonly retryMaxDelayMs: number;

  constructor(opts: TransportOptions) {
    const url = new URL(opts.endpoint);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`tokenplane endpoint must be http(s), got ${url.protocol}`);
    }
    if (url.username || url.password) {
      throw new TypeError('tokenplane endpoint must not carry credentials; pass apiKey');
    }
    // A key read from a file or a Secret often ends in a newline: drop surrounding
    // whitespace; anything else that cannot go into a header is refused (unshown).
    const apiKey = typeof opts.apiKey === 'string' ? opts.apiKey.trim() : '';
    if (apiKey === '') throw new TypeError('tokenplane apiKey is required');
    if (!/^[\x21-\x7e]+$/.test(apiKey)) {
      throw new TypeError('tokenplane apiKey contains characters that cannot be sent in a header');
    }
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.#apiKey = apiKey;
    this.#signingTokenId = opts.signingTokenId;
    this.retries = Math.max(0, opts.retries ?? DEFAULT_RETRIES);
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.userAgent = opts.userAgent ?? `tokenplane-client node/${process.versions.node}`;
    this.retryBaseMs = opts.retryBaseMs ?? 200;
    this.retryMaxDelayMs = opts.retryMaxDelayMs ?? 10_000;
    this.#ownsDispatcher = !opts.dispatcher;
    this.#dispatcher =
      opts.dispatcher ??
      new Pool(this.origin, {
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        connectTimeout: Math.min(this.timeoutMs, 10_000),
      });
  }

  /**
   * One call, with retries when safe. Resolves with the validated body or throws a client error.
   * A client span (core/tracing.ts) whose `traceparent` each attempt carries.
   */
  send<T = undefined>(call: Call<T>): Promise<Reply<T>> {
    const route = call.path.replace(/\/[0-9a-f]{8}-[0-9a-f-]{27}/g, '/{id}');
    return inSpan(
      `${call.method} ${route}`,
      { 'http.request.method': call.method, 'url.template': route },
      () => this.#send(call),
      SpanKind.CLIENT,
    );
  }

  async #send<T>(call: Call<T>): Promise<Reply<T>> {
    const idempotent =
      call.idempotent ??
      (call.method !== 'POST' ||
        (call.headers?.['idempotency-key'] !== undefined &&
          call.headers['idempotency-key'] !== ''));
    let maybeApplied = false;
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.#attempt(call);
      if (outcome.ok) return outcome.reply;
      // A DELETE repeated after an attempt the server may have carried out finds the
      // object gone: that is the outcome asked for, not a failure.
      if (
        call.method === 'DELETE' &&
        maybeApplied &&
        outcome.error instanceof TokenplaneError &&
        outcome.error.slug === 'not-found'
      ) {
        return { status: 204, headers: {}, data: undefined as T };
      }
      maybeApplied ||= outcome.maybeApplied;
      const safe = idempotent || !outcome.maybeApplied;
      if (!outcome.retryable || !safe || attempt >= this.retries) throw outcome.error;
      const delay =
        outcome.retryAfterMs ?? backoffDelay(attempt, this.retryBaseMs, this.retryMaxDelayMs);
      if (delay > this.retryMaxDelayMs) throw outcome.error;
      await sleep(delay);
    }
  }

  async #attempt<T>(call: Call<T>): Promise<Outcome<T>> {
    const { method } = call;
    const path = this.basePath + call.path + queryString(call.query);
    const headers: Record<string, string> = {
      ...this.#credential(method, path),
      accept: 'application/json, application/problem+json',
      'user-agent': this.userAgent,
      ...traceHeaders(),
    };
    for (const [k, v] of Object.entries(call.headers ?? {})) if (v !== undefined) headers[k] = v;
    let body: string | undefined;
    if (call.body !== undefined) {
      body = JSON.stringify(call.body);
      headers['content-type'] = 'application/json';
    }
    const signal = AbortSignal.timeout(this.timeoutMs);
    let status: number;
    let resHeaders: IncomingHttpHeaders;
    let text: string;
    try {
      const res = await this.#dispatcher.request({
        origin: this.origin,
        path,
        method,
        headers,
        body,
        signal,
        // Retries are decided here, not inside undici.
        idempotent: false,
      });
      status = res.statusCode;
      resHeaders = res.headers;
      text = await res.body.text();
    } catch (err) {
      return this.#connectionFailure(err, method, call.path, signal.aborted);
    }

    const requestId = header(resHeaders, 'x-request-id') ?? header(resHeaders, 'request-id');
    if (status < 200 || status >= 300) {
      const error = errorFromResponse({
        status,
        problem: parseProblem(text),
        method,
        path: call.path,
        requestId,
        retryAfterMs: parseRetryAfter(resHeaders['retry-after']),
      });
      return {
        ok: false,
        error,
        retryable: RETRY_STATUSES.has(status),
        // 429 means the server refused to act; any other failure may come after acting.
        maybeApplied: status !== 429,
        retryAfterMs: error.retryAfterMs,
      };
    }

    if (!call.schema)
      return { ok: true, reply: { status, headers: resHeaders, data: undefined as T } };
    const fail = (issues: string[]): Outcome<T> => ({
      ok: false,
      error: new TokenplaneResponseError({ status, method, path: call.path, issues, requestId }),
      retryable: false,
      maybeApplied: true,
    });
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return fail(['body is not JSON']);
    }
    const parsed = call.schema.safeParse(json);
    if (!parsed.success) {
      // Paths and messages only: zod does not echo input values unless asked to.
      return fail(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
    }
    return { ok: true, reply: { status, headers: resHeaders, data: parsed.data } };
  }

  #connectionFailure<T>(err: unknown, method: Method, path: string, timedOut: boolean): Outcome<T> {
    const e = err instanceof Error ? err : new Error(String(err));
    const code = timedOut
      ? 'TIMEOUT'
      : String((e as { code?: unknown }).code ?? e.name ?? 'ECONNECTION');
    if (code === 'UND_ERR_INVALID_ARG' || e instanceof TypeError) throw e;
    const what = timedOut ? `no answer within ${this.timeoutMs} ms` : `${code}: ${e.message}`;
    // The cause is rebuilt from name, code and message, so nothing else undici might
    // attach to its error (options, headers) travels with ours.
    const cause = Object.assign(new Error(this.#redact(e.message)), { name: e.name, code });
    return {
      ok: false,
      error: new TokenplaneConnectionError({
        code,
        message: this.#redact(`could not reach ${this.origin}: ${what}`),
        method,
        path,
        cause,
      }),
      retryable: true,
      maybeApplied: !NOT_SENT_CODES.has(code),
    };
  }

  /** The bearer header, or a signature of this attempt when the token signs its requests. */
  #credential(method: Method, path: string): Record<string, string> {
    if (this.#signingTokenId === undefined) return { authorization: `Bearer ${this.#apiKey}` };
    return signRequest(
      { method, url: this.origin + path },
      { keyId: this.#signingTokenId, key: this.#apiKey },
    );
  }

  #redact(text: string): string {
    return text.split(this.#apiKey).join('[redacted]');
  }

  async close(): Promise<void> {
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }

  toString(): string {
    return `Transport(${this.origin}${this.basePath})`;
  }

  toJSON(): object {
    return { endpoint: this.origin + this.basePath };
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** A fresh Idempotency-Key for a create or rotate that the caller gave none for. */
export function newIdempotencyKey(): string {
  return randomUUID();
}

function queryString(query: Call<unknown>['query']): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function parseProblem(text: string): Problem | undefined {
  try {
    const parsed = Problem.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
