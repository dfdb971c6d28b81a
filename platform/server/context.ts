/** What every route plugin gets: storage, rules, verifier, metrics, clock. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SecretBox } from '../../core/crypto/cipher.ts';
import { ProblemError } from '../../core/domain/problems.ts';
import type { TierTable } from '../../core/domain/tiers.ts';
import type { LogThrottle } from '../../core/logging.ts';
import type { AuditEvent } from '../../core/schemas/index.ts';
import { type Scope, type Target, targetVisible } from '../storage/scope.ts';
import type { SignatureLedger } from '../storage/signatures.ts';
import type { Store } from '../storage/store.ts';
import type { WebhookDestinations } from '../webhooks/destinations.ts';
import type { NoticeScheduler } from '../webhooks/scheduler.ts';
import type { WebhookSender } from '../webhooks/sender.ts';
import type { MetricCatalog } from './analytics.ts';
import type { LeakReportSignatures } from './leak-signature.ts';
import type { PlatformMetrics } from './metrics.ts';
import type { RateLimiter } from './permissions/rate-limiter.ts';
import type { UsageMeter } from './permissions/usage-meter.ts';
import type { TokenVerifier, VerifiedToken } from './verifier.ts';

export type PlatformContext = {
  store: Store;
  sender: WebhookSender;
  notices: NoticeScheduler;
  tiers: TierTable;
  box: SecretBox;
  verifier: TokenVerifier;
  metrics: PlatformMetrics;
  catalog: MetricCatalog;
  rateLimiter: RateLimiter;
  usage: UsageMeter;
  clock: () => number;
  adminKeyDigest: Buffer;
  /** Repetitive failures (database gone) are logged once a minute, with a count. */
  warnings: LogThrottle;
  /** Checks signed leak reports (GitHub's partner alerts); null: the administrator key only. */
  leakSignatures: LeakReportSignatures | null;
  /** The signatures of signed requests, each accepted once (storage/signatures.ts). */
  signatures: SignatureLedger;
  /** Where webhooks may deliver (SSRF guard): checked on create, and by the sender. */
  webhookDestinations: WebhookDestinations;
};

/** Who is calling a management route. */
export type Principal =
  | { type: 'admin'; id: null; role: 'admin'; scope: null }
  /** `email`: the member whose personal access key this is (README "Members and single sign-on"). */
  | { type: 'access-key'; id: string; role: 'admin' | 'viewer'; scope: string; email?: string }
  /**
   * A person signed in to the console by single sign-on, acting with its
   * membership (README "Members and single sign-on"); `id` is the member's.
   */
  | { type: 'member'; id: string; role: 'admin' | 'viewer'; scope: string; email: string }
  /** A signed leak report (POST /v1/token-leaks only); `id` names the signing key. */
  | { type: 'secret-scanner'; id: string; role: 'viewer'; scope: null };

/** What a mutation route tells the audit hook about itself. */
export type AuditInfo = {
  action: string;
  targetType: AuditEvent['targetType'];
  targetId: string | null;
  entityId: string | null;
  detail?: string | null;
};

/**
 * What a route audits, from its validated params and body (route
 * `config.audit`, written by routes/common.ts's managementRoute). Typed per
 * route there; stored here as a function of a request it cannot name.
 */
export type AuditDeclaration = (request: never) => AuditInfo;

/** Which credential a route takes (route `config.auth`). */
export type AuthMode = 'none' | 'management' | 'token' | 'leak-report';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
    apiToken: VerifiedToken | null;
    /** What the route audits, from its `config.audit` (audit.ts). */
    audit: AuditInfo | null;
    problemSlug: string | null;
  }
  interface FastifyContextConfig {
    auth?: AuthMode;
    audit?: AuditDeclaration;
  }
}

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal)
    throw new ProblemError('unauthorized', 'A management credential is required.');
  return request.principal;
}

/** How the audit trail names a principal: a member, and a member's personal key, by its email too. */
export function actorOf(principal: Principal): AuditEvent['actor'] {
  const email =
    principal.type === 'access-key' || principal.type === 'member' ? principal.email : undefined;
  return { type: principal.type, id: principal.id, ...(email ? { email } : {}) };
}

export function scopeOf(request: FastifyRequest): Scope {
  return principalOf(request).scope;
}

/**
 * Throws unless the caller may write (administrator key or an `admin` access
 * key). Scope comes before role (README "Platform API"): a viewer naming something outside
 * its subtree gets not-found, as any key would, and forbidden only inside it.
 * The look-up runs on the refusal path only.
 */
export async function requireWriter(
  ctx: PlatformContext,
  request: FastifyRequest,
  action: string,
  target: Target | null,
  /** Whether the change is the caller's own (a member's own personal keys), which a viewer may make. */
  own?: (principal: Principal) => boolean | Promise<boolean>,
): Promise<Principal> {
  const principal = principalOf(request);
  if (principal.role === 'admin' || (await own?.(principal))) return principal;
  if (target && !(await targetVisible(ctx.store.db, principal.scope, target))) {
    const [kind, id] = Object.entries(target)[0] as [string, string];
    throw new ProblemError(
      'not-found',
      `No ${TARGET_NAMES[kind]} with id ${id} exists in your scope.`,
    );
  }
  throw new ProblemError(
    'forbidden',
    principal.type === 'member'
      ? `A viewer member cannot ${action}; ask an admin of your organisation to make you an admin.`
      : `A viewer access key cannot ${action}; use an access key with role "admin".`,
    { role: principal.role },
  );
}

const TARGET_NAMES: Record<string, string> = {
  entity: 'entity',
  token: 'token',
  accessKey: 'access key',
  webhook: 'webhook',
  member: 'member',
};

/**
 * If-Match (RFC 9110 §13.1.1): absent or `*` → the object only has to exist;
 * otherwise one listed tag must equal the current ETag by strong comparison —
 * a weak tag (`W/"…"`) never matches.
 */
export function ifMatchPredicate(
  header: string | undefined,
): ((etag: string) => boolean) | undefined {
  if (header === undefined) return undefined;
  if (header === '*') return undefined;
  const tags = header.split(',').map((t) => t.trim());
  return (etag) => tags.includes(etag);
}

export function sendCreated<T>(reply: FastifyReply, body: T, replayed: boolean): T {
  reply.code(201);
  if (replayed) reply.header('idempotent-replayed', 'true');
  return body;
}
