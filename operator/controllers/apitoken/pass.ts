/**
 * One reconcile of an ApiToken, as the concerns see it. The steps (issuing,
 * rotation, Secret delivery, readiness) never call each other: each reads what
 * the steps before it recorded here, in the status draft above all, and writes
 * only its own fields. Readiness writes the draft once, at the end.
 */
import type { TokenType, UsagePeriod } from '../../../platform/domain/permissions.ts';
import {
  type DesiredPermissions,
  declaredPermissions,
  type Origin,
  parseDuration,
  type TokenDeclaration,
  type TokenPolicy,
} from '../../../platform/external/index.ts';
import type { Token } from '../../../platform/schemas/index.ts';
import type { ApiTokenObject, ApiTokenSpec, ApiTokenStatus } from '../../crds/schemas.ts';
import { type Context, lower } from '../context.ts';

export const PLURAL = 'apitokens';

export type Pass = {
  obj: ApiTokenObject;
  declaration: TokenDeclaration;
  policy: TokenPolicy;
  /** The entity's tier when its Entity is in the cache: scopes are judged ahead of the platform. */
  entityTier: string | undefined;
  /** The status to write: issuing owns tokenId, entityId, issuance, rotations; rotation
   * owns lastRotationTime; delivery owns secretName; readiness the rest. */
  status: ApiTokenStatus;
  /** The platform token as last seen (after this pass's changes). */
  token?: Token;
  origin: Origin;
  /** The value, when a create or a rotation of this pass returned it. */
  value?: string;
  /** When the token is due for rotation; null when it is never rotated. */
  renewalTime: Date | null;
  /** Set by a rotation of this pass: when the replaced value stops verifying. */
  rotatedUntil?: Date;
  /** Set by delivery: when the Secret's previousToken must go; null when it has none. */
  previousUntil?: Date | null;
};

/** The spec's §6 fields on the platform's names, defaults filled in (the spec is the whole truth). */
function permissionsOf(spec: ApiTokenSpec): DesiredPermissions {
  const { rateLimit, usageLimit } = spec;
  return declaredPermissions({
    type: lower(spec.type ?? 'Secret') as TokenType,
    scopes: spec.scopes,
    allowedOrigins: spec.allowedOrigins,
    allowedIps: spec.allowedIps,
    rateLimit: rateLimit
      ? {
          requests: rateLimit.requests,
          perSeconds: Math.round(parseDuration(rateLimit.per) / 1000),
        }
      : null,
    usageLimit: usageLimit
      ? { limit: usageLimit.limit, period: lower(usageLimit.period) as UsagePeriod }
      : null,
    requireSignedRequests: spec.requireSignedRequests,
  });
}

export function startPass(
  ctx: Context,
  obj: ApiTokenObject,
  entity: { id: string; tier?: string | undefined },
): Pass {
  const { spec, status = {} } = obj;
  return {
    obj,
    declaration: {
      desired: {
        entityId: entity.id,
        name: spec.displayName ?? obj.metadata.name,
        status: lower(spec.status) as TokenDeclaration['desired']['status'],
        ...(spec.expiresAt ? { expiresAt: new Date(spec.expiresAt).toISOString() } : {}),
        permissions: permissionsOf(spec),
      },
      tokenId: spec.tokenId,
      adoptDefaultToken: spec.adoptDefaultToken,
      rotation: spec.lifetime
        ? {
            lifetime: spec.lifetime,
            renewBefore: spec.renewBefore,
            gracePeriod: spec.rotationGracePeriod,
          }
        : undefined,
    },
    policy: {
      identity: `apitoken:${obj.metadata.uid}`,
      issuance: status.issuance ?? 0,
      rotations: status.rotations ?? 0,
      now: ctx.now(),
    },
    entityTier: entity.tier,
    status: { ...status },
    origin: 'recorded',
    renewalTime: null,
  };
}
