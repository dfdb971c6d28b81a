/**
 * The pipeline's first stage: what the ApiToken declares, in the planner's
 * terms — the entity it names, resolved through the informer's cache (or why
 * to wait for it), and the token it asks for, defaults filled in (the spec is
 * the whole truth).
 */
import type { TokenType, UsagePeriod } from '../../../core/domain/permissions.ts';
import {
  type DesiredPermissions,
  declaredPermissions,
  parseDuration,
  type TokenDeclaration,
} from '../../../core/external/index.ts';
import type { ApiTokenObject, ApiTokenSpec } from '../../crds/schemas.ts';
import { isReady } from '../../runtime/conditions.ts';
import { type Context, lower } from '../context.ts';

export type Declared = {
  declaration: TokenDeclaration;
  /** The entity's tier when its Entity is in the cache: scopes are judged ahead of the platform. */
  entityTier: string | undefined;
};

export function declarationOf(
  ctx: Pick<Context, 'entityCache'>,
  obj: ApiTokenObject,
): Declared | { wait: string } {
  const entity = resolveEntity(ctx, obj);
  if ('wait' in entity) return entity;
  const { spec } = obj;
  return {
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
    entityTier: entity.tier,
  };
}

/** The entity's platform id, and its tier when the cache knows it; or why to wait. */
function resolveEntity(
  ctx: Pick<Context, 'entityCache'>,
  obj: ApiTokenObject,
): { id: string; tier?: string | undefined } | { wait: string } {
  const ref = obj.spec.entityRef;
  if (!ref) return { id: obj.spec.entityId as string };
  const entity = ctx.entityCache.get(ref.name, obj.metadata.namespace);
  if (!entity)
    return { wait: `Waiting for Entity "${ref.name}", which does not exist in this namespace.` };
  if (!entity.status?.id)
    return { wait: `Waiting for Entity "${ref.name}" to be created on the platform.` };
  if (!isReady(entity) && !obj.status?.tokenId)
    return { wait: `Waiting for Entity "${ref.name}" to become Ready.` };
  return { id: entity.status.id, tier: entity.status.tier };
}

/** The spec's permission fields on the platform's names. */
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
