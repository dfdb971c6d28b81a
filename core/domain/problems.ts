/**
 * The problem slugs of README "Platform API". The server maps them to RFC 9457 responses; the
 * client maps them back to one error class each.
 */
const BASE_PROBLEMS = {
  validation: { status: 400, title: 'Request does not match the schema' },
  unauthorized: { status: 401, title: 'Missing, unknown, disabled or expired credential' },
  forbidden: { status: 403, title: 'Credential lacks the role for this action' },
  'tier-insufficient': { status: 403, title: "Token's tier cannot read this metric" },
  'not-found': { status: 404, title: 'No such object' },
  'quota-exceeded': { status: 409, title: "Tier's token quota exceeded" },
  'tier-ceiling': { status: 409, title: 'Tier ceiling exceeded' },
  'has-children': { status: 409, title: 'Entity has children' },
  'token-exposed': { status: 409, title: "Token's value was reported exposed; rotate it" },
  'grace-limit': { status: 409, title: 'Too many replaced values still in their grace' },
  'precondition-failed': { status: 412, title: 'If-Match does not match the current ETag' },
  'idempotency-conflict': { status: 422, title: 'Idempotency-Key reused with another body' },
  'idempotency-gone': {
    status: 410,
    title: 'What this Idempotency-Key created no longer exists',
  },
  'rate-limited': { status: 429, title: 'Too many requests' },
  internal: { status: 500, title: 'Internal error' },
} as const;

/** The slugs README "Token permissions and limits" adds for token permissions and limits. */
export const PERMISSION_PROBLEMS = {
  'signature-invalid': { status: 401, title: 'Missing, bad, stale or replayed request signature' },
  'scope-insufficient': { status: 403, title: "Token's scopes do not include this metric" },
  'origin-not-allowed': { status: 403, title: 'Origin not allowed for this token' },
  'ip-not-allowed': { status: 403, title: 'Client address not allowed for this token' },
  'scope-above-tier': { status: 409, title: "Scope above the entity's tier" },
  'usage-exceeded': { status: 429, title: "Token's usage limit used up" },
} as const;

export const PROBLEMS = { ...BASE_PROBLEMS, ...PERMISSION_PROBLEMS } as const;

export type ProblemSlug = keyof typeof PROBLEMS;

/** Problem `type` URIs end in the slug. */
export const PROBLEM_TYPE_BASE = 'https://tokenplane.dev/problems/';

export function problemType(slug: ProblemSlug): string {
  return PROBLEM_TYPE_BASE + slug;
}

export function slugOfType(type: string): ProblemSlug | undefined {
  const slug = type.slice(type.lastIndexOf('/') + 1);
  return slug in PROBLEMS ? (slug as ProblemSlug) : undefined;
}

/** Extra problem slugs the HTTP layer needs beyond README "Platform API"'s table. */
export const TRANSPORT_PROBLEMS = {
  'bad-request': { status: 400, title: 'Malformed HTTP request' },
  'request-timeout': { status: 408, title: 'Request not received in time' },
  'method-not-allowed': { status: 405, title: 'Method not allowed on this path' },
  'payload-too-large': { status: 413, title: 'Request body too large' },
  'uri-too-long': { status: 414, title: 'A path segment is too long' },
  'unsupported-media-type': { status: 415, title: 'Unsupported content type' },
  'header-fields-too-large': { status: 431, title: 'Request header fields too large' },
  unavailable: { status: 503, title: 'The database is unreachable; try again shortly' },
} as const;

export type FieldError = { path: string; message: string };

/**
 * Thrown by the server and its storage to answer with a problem. `extensions`
 * become RFC 9457 extension members (for quota: `tier`, `quota`, `inUse`).
 */
export class ProblemError extends Error {
  readonly slug: ProblemSlug | keyof typeof TRANSPORT_PROBLEMS;
  readonly detail: string;
  readonly extensions: Record<string, unknown>;

  constructor(
    slug: ProblemSlug | keyof typeof TRANSPORT_PROBLEMS,
    detail: string,
    extensions: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = 'ProblemError';
    this.slug = slug;
    this.detail = detail;
    this.extensions = extensions;
  }

  get status(): number {
    return slug2status(this.slug);
  }
}

function slug2status(slug: ProblemSlug | keyof typeof TRANSPORT_PROBLEMS): number {
  return slug in PROBLEMS
    ? PROBLEMS[slug as ProblemSlug].status
    : TRANSPORT_PROBLEMS[slug as keyof typeof TRANSPORT_PROBLEMS].status;
}

/** A rule violation from rules.ts as a ProblemError. */
export function violationProblem(violation: {
  slug: 'quota-exceeded' | 'tier-ceiling' | 'forbidden' | 'scope-above-tier' | 'grace-limit';
  detail: string;
  [key: string]: unknown;
}): ProblemError {
  const { slug, detail, ...extensions } = violation;
  return new ProblemError(slug, detail, extensions);
}

export function validationProblem(errors: FieldError[], detail?: string): ProblemError {
  return new ProblemError(
    'validation',
    detail ?? errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('; '),
    { errors },
  );
}
