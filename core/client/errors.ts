/**
 * Errors thrown by the tokenplane client: one class per problem slug of README "Platform API"
 * (see PROBLEMS), plus connection and response-shape failures. Messages are built
 * from the method, the path (ids only), the status and the server's problem
 * `title`/`detail`, never from credentials or request bodies.
 */
import {
  PERMISSION_PROBLEMS,
  PROBLEMS,
  type ProblemSlug,
  problemType,
  slugOfType,
} from '../domain/problems.ts';
import type { Problem } from '../schemas/problem.ts';

export type ErrorInit = {
  status: number;
  problem: Problem;
  method: string;
  path: string;
  requestId?: string | undefined;
  /** From a `Retry-After` header, when the server sent one. */
  retryAfterMs?: number | undefined;
};

/** A problem answer of the platform (RFC 9457); `slug` is the last segment of `type`. */
export class TokenplaneError extends Error {
  /**
   * The last segment of the problem `type`: one of PROBLEMS' slugs, another slug the
   * server uses (e.g. `payload-too-large`), or `unknown` for a non-problem answer.
   */
  readonly slug: ProblemSlug | (string & {});
  readonly status: number;
  readonly title: string;
  readonly detail: string | undefined;
  readonly problem: Problem;
  readonly requestId: string | undefined;
  readonly method: string;
  readonly path: string;
  readonly retryAfterMs: number | undefined;

  constructor(init: ErrorInit) {
    const { status, problem, method, path } = init;
    // The platform puts the request id into the problem body as well as a header.
    const requestId =
      init.requestId ?? (typeof problem.requestId === 'string' ? problem.requestId : undefined);
    const slug =
      problem.type === 'about:blank'
        ? 'unknown'
        : problem.type.slice(problem.type.lastIndexOf('/') + 1) || 'unknown';
    const title = problem.title;
    const detail = problem.detail;
    super(
      `${method} ${path}: ${status} ${slug}: ${detail ?? title}` +
        (requestId ? ` (request ${requestId})` : ''),
    );
    this.name = new.target.name;
    this.slug = slug;
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.problem = problem;
    this.requestId = requestId;
    this.method = method;
    this.path = path;
    this.retryAfterMs = init.retryAfterMs;
  }
}

export class ValidationError extends TokenplaneError {
  /** Field-level details: `path` (e.g. `body.name`) and `message`. */
  readonly errors: { path: string; message: string }[];
  constructor(init: ErrorInit) {
    super(init);
    this.errors = init.problem.errors ?? [];
  }
}
export class UnauthorizedError extends TokenplaneError {}
export class ForbiddenError extends TokenplaneError {}
export class TierInsufficientError extends TokenplaneError {}
export class NotFoundError extends TokenplaneError {}
export class QuotaExceededError extends TokenplaneError {
  readonly tier: string | undefined;
  readonly quota: number | undefined;
  readonly inUse: number | undefined;
  constructor(init: ErrorInit) {
    super(init);
    this.tier = init.problem.tier;
    this.quota = init.problem.quota;
    this.inUse = init.problem.inUse;
  }
}
export class TierCeilingError extends TokenplaneError {}
export class HasChildrenError extends TokenplaneError {}
export class PreconditionFailedError extends TokenplaneError {}
/** Enabling a token whose value was reported exposed: rotate it instead. */
export class TokenExposedError extends TokenplaneError {}
/** A rotation with a grace while the most replaced values are in theirs: rotate without one, or later. */
export class GraceLimitError extends TokenplaneError {}
export class IdempotencyConflictError extends TokenplaneError {}
/** A replayed create whose object (or value) was deleted since: nothing is handed out. */
export class IdempotencyGoneError extends TokenplaneError {}
export class RateLimitedError extends TokenplaneError {}
export class SignatureInvalidError extends TokenplaneError {}
export class ScopeInsufficientError extends TokenplaneError {}
export class OriginNotAllowedError extends TokenplaneError {}
export class IpNotAllowedError extends TokenplaneError {}
export class ScopeAboveTierError extends TokenplaneError {
  /** The scopes the entity's tier does not include, and the tier they need. */
  readonly scopes: string[] | undefined;
  readonly requiredTier: string | undefined;
  constructor(init: ErrorInit) {
    super(init);
    this.scopes = init.problem.scopes;
    this.requiredTier = init.problem.requiredTier;
  }
}
export class UsageExceededError extends TokenplaneError {
  /** When the usage period resets; null for a total limit. */
  readonly resetsAt: string | null | undefined;
  constructor(init: ErrorInit) {
    super(init);
    this.resetsAt = init.problem.resetsAt;
  }
}
export class InternalError extends TokenplaneError {}

export const ERROR_CLASSES = {
  validation: ValidationError,
  unauthorized: UnauthorizedError,
  forbidden: ForbiddenError,
  'tier-insufficient': TierInsufficientError,
  'not-found': NotFoundError,
  'quota-exceeded': QuotaExceededError,
  'tier-ceiling': TierCeilingError,
  'has-children': HasChildrenError,
  'token-exposed': TokenExposedError,
  'grace-limit': GraceLimitError,
  'precondition-failed': PreconditionFailedError,
  'idempotency-conflict': IdempotencyConflictError,
  'idempotency-gone': IdempotencyGoneError,
  'rate-limited': RateLimitedError,
  'signature-invalid': SignatureInvalidError,
  'scope-insufficient': ScopeInsufficientError,
  'origin-not-allowed': OriginNotAllowedError,
  'ip-not-allowed': IpNotAllowedError,
  'scope-above-tier': ScopeAboveTierError,
  'usage-exceeded': UsageExceededError,
  internal: InternalError,
} as const satisfies Record<ProblemSlug, typeof TokenplaneError>;

/**
 * The slug a bare status implies when the answer is not a problem we recognise
 * (a proxy's 401 or 429 says nothing about signatures or usage limits).
 */
function slugOfStatus(status: number): ProblemSlug | undefined {
  if (status >= 500) return 'internal';
  const slugs = (Object.keys(PROBLEMS) as ProblemSlug[]).filter(
    (s) => PROBLEMS[s].status === status && !(s in PERMISSION_PROBLEMS),
  );
  return slugs.length === 1 ? slugs[0] : undefined;
}

/**
 * The error for a non-2xx answer. `problem` is the parsed problem+json body, or
 * undefined when the body was not one (a proxy's HTML page, an empty body); then
 * the status alone decides the class where it is unambiguous. A problem type this
 * client does not know (e.g. `payload-too-large`) keeps its slug on a plain
 * TokenplaneError.
 */
export function errorFromResponse(
  init: Omit<ErrorInit, 'problem'> & { problem: Problem | undefined },
): TokenplaneError {
  let problem = init.problem;
  if (!problem || problem.type === 'about:blank') {
    const slug = slugOfStatus(init.status);
    problem = {
      ...problem,
      type: slug ? problemType(slug) : 'about:blank',
      title: problem?.title ?? (slug ? PROBLEMS[slug].title : `HTTP ${init.status}`),
      status: init.status,
    };
  }
  const slug = slugOfType(problem.type);
  const Class = slug ? ERROR_CLASSES[slug] : TokenplaneError;
  return new Class({ ...init, problem });
}

/** The platform could not be reached, or did not answer in time. */
export class TokenplaneConnectionError extends Error {
  /** e.g. ECONNREFUSED, UND_ERR_SOCKET, TIMEOUT. */
  readonly code: string;
  readonly method: string;
  readonly path: string;
  constructor(init: {
    code: string;
    message: string;
    method: string;
    path: string;
    cause?: Error;
  }) {
    super(
      `${init.method} ${init.path}: ${init.message}`,
      init.cause ? { cause: init.cause } : undefined,
    );
    this.name = 'TokenplaneConnectionError';
    this.code = init.code;
    this.method = init.method;
    this.path = init.path;
  }
}

/** The platform answered, but not with what the contract (the zod schemas) says. */
export class TokenplaneResponseError extends Error {
  readonly status: number;
  readonly method: string;
  readonly path: string;
  /** Where the body departed from the schema: `path: message` lines, no values. */
  readonly issues: string[];
  readonly requestId: string | undefined;
  constructor(init: {
    status: number;
    method: string;
    path: string;
    issues: string[];
    requestId?: string | undefined;
  }) {
    super(
      `${init.method} ${init.path}: ${init.status} answer does not match the contract: ${init.issues.slice(0, 5).join('; ')}`,
    );
    this.name = 'TokenplaneResponseError';
    this.status = init.status;
    this.method = init.method;
    this.path = init.path;
    this.issues = init.issues;
    this.requestId = init.requestId;
  }
}

export function isNotFound(err: unknown): err is NotFoundError {
  return err instanceof NotFoundError;
}

export function isProblem(err: unknown, slug: ProblemSlug): err is TokenplaneError {
  return err instanceof TokenplaneError && err.slug === slug;
}
