/**
 * `check` = schema parse of the resource inputs. The schemas are built from the
 * platform's own field schemas (platform/schemas), so the provider accepts exactly
 * what the API accepts; failures name the property and say what is allowed.
 */
import { z } from 'zod';
import {
  Duration,
  EntityKind,
  Id,
  Name,
  PermissionChanges,
  TierName,
  Timestamp,
  TokenStatus,
  TokenType,
} from '../../platform/schemas/index.ts';

/** What an input not yet known at preview (an output of a resource still to be created) looks like. */
export const UNKNOWN = '04da6b54-80e4-46f7-96ec-b56ff0331ba9';
export const isUnknown = (value: unknown): boolean => value === UNKNOWN;
/** A value given and known: neither left out (undefined, null) nor still unknown at preview. */
export const known = <T>(value: T): value is NonNullable<T> => value != null && !isUnknown(value);

/** Inputs the resource classes add for the provider; never validated as user input. */
export const HIDDEN = ['__provider', '__declaration', '__key'] as const;

export const EntityInputs = z.strictObject({
  displayName: Name,
  kind: EntityKind,
  tier: TierName,
  parentId: Id.optional(),
  defaultToken: z.boolean().optional(),
});
export type EntityInputs = z.infer<typeof EntityInputs>;

export const ApiTokenInputs = z.strictObject({
  entityId: Id,
  displayName: Name,
  status: TokenStatus.optional(),
  expiresAt: Timestamp.nullable().optional(),
  adoptDefaultToken: z.boolean().optional(),
  tokenId: Id.optional(),
  type: TokenType.optional(),
  ...PermissionChanges.shape,
  lifetime: Duration.optional(),
  renewBefore: Duration.optional(),
  rotationGracePeriod: Duration.optional(),
});
export type ApiTokenInputs = z.infer<typeof ApiTokenInputs>;

export type CheckFailure = { property: string; reason: string };

const ALLOWED: Record<string, string> = {
  displayName: 'a non-empty name of at most 200 characters',
  kind: '"reseller" or "customer"',
  tier: 'a tier name such as "lite" or "advanced"',
  parentId: 'the id (UUID) of a reseller, e.g. `parent.entityId`',
  entityId: 'the id (UUID) of an entity, e.g. `entity.entityId`',
  status: '"active" or "disabled"',
  expiresAt: 'an RFC 3339 timestamp such as "2027-01-01T00:00:00Z", or null for never',
  tokenId: 'the id (UUID) of an existing token',
  defaultToken: 'true or false',
  adoptDefaultToken: 'true or false',
  type: '"secret" or "publishable" (a change replaces the token)',
  scopes: 'a list of metrics:read, metrics:core:read, metrics:premium:read or metric:<name>:read',
  allowedOrigins: 'a list of https://host[:port] or https://*.domain origins',
  allowedIps: 'a list of IPv4/IPv6 addresses and CIDR ranges',
  rateLimit: '{requests, perSeconds}, or null',
  usageLimit: '{limit, period: "day" | "month" | "total"}, or null',
  requireSignedRequests: 'true or false (secret tokens only)',
  lifetime: 'a duration such as "720h": each value lives that long and is rotated on `pulumi up`',
  renewBefore: 'a duration shorter than lifetime, such as "240h" (default: a third of it)',
  rotationGracePeriod: 'a duration such as "24h" (default: renewBefore, at most 720h)',
};

/**
 * Parses the user inputs. Unknown values (preview) pass: they are checked again
 * when known. Returns the parsed inputs with unknowns kept as they were.
 */
export function parseInputs<S extends z.ZodObject>(
  schema: S,
  news: Record<string, unknown>,
): { value: z.infer<S> | undefined; failures: CheckFailure[] } {
  const user: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(news)) {
    if ((HIDDEN as readonly string[]).includes(key) || value === undefined) continue;
    user[key] = value;
  }
  const unknownKeys = Object.keys(user).filter((k) => isUnknown(user[k]));
  const shape = schema.shape as Record<string, z.ZodType>;
  const parsed = schema
    .extend(
      Object.fromEntries(unknownKeys.filter((k) => k in shape).map((k) => [k, z.literal(UNKNOWN)])),
    )
    .safeParse(user);
  if (parsed.success) return { value: parsed.data as z.infer<S>, failures: [] };
  const failures = parsed.error.issues.map((issue): CheckFailure => {
    if (issue.code === 'unrecognized_keys') {
      return {
        property: issue.keys[0] ?? '',
        reason: `unknown input ${issue.keys.map((k) => `"${k}"`).join(', ')}; allowed: ${Object.keys(shape).join(', ')}`,
      };
    }
    const property = String(issue.path[0] ?? '');
    const allowed = ALLOWED[property];
    const got = property in user ? ` (got ${JSON.stringify(user[property])})` : ' (missing)';
    return {
      property,
      reason: `${property}: ${issue.message}${got}${allowed ? `; expected ${allowed}` : ''}`,
    };
  });
  return { value: undefined, failures };
}
