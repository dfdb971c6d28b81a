/**
 * `check` = schema parse of the resource inputs. The schemas are built from the
 * platform's own field schemas (core/schemas), so the provider accepts exactly
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
} from '../../core/schemas/index.ts';

/** What an input not yet known at preview (an output of a resource still to be created) looks like. */
export const UNKNOWN = '04da6b54-80e4-46f7-96ec-b56ff0331ba9';
export const isUnknown = (value: unknown): boolean => value === UNKNOWN;
/** A value given and known: neither left out (undefined, null) nor still unknown at preview. */
export const known = <T>(value: T): value is NonNullable<T> => value != null && !isUnknown(value);

/** Inputs the resource classes add for the provider; never validated as user input. */
export const HIDDEN = ['__provider', '__declaration', '__key'] as const;

// A failure says what a property takes (`expected`): the description its
// schema carries — the platform's own, or the hint given here where an input
// is usually another resource's output — else an enum's values.
export const EntityInputs = z.strictObject({
  displayName: Name,
  kind: EntityKind,
  tier: TierName,
  parentId: Id.optional().meta({
    description: 'the id (UUID) of a reseller, e.g. `parent.entityId`',
  }),
  defaultToken: z.boolean().optional(),
});
export type EntityInputs = z.infer<typeof EntityInputs>;

const Lifetime = (description: string) => Duration.optional().meta({ description });

export const ApiTokenInputs = z.strictObject({
  entityId: Id.meta({ description: 'the id (UUID) of an entity, e.g. `entity.entityId`' }),
  displayName: Name,
  status: TokenStatus.optional(),
  expiresAt: Timestamp.nullable().optional().meta({
    description: 'an RFC 3339 timestamp such as "2027-01-01T00:00:00Z", or null for never',
  }),
  adoptDefaultToken: z.boolean().optional(),
  tokenId: Id.optional().meta({ description: 'the id (UUID) of an existing token' }),
  type: TokenType.optional(),
  ...PermissionChanges.shape,
  lifetime: Lifetime(
    'a duration such as "720h": each value lives that long and is rotated on `pulumi up`',
  ),
  renewBefore: Lifetime(
    'a duration shorter than lifetime, such as "240h" (default: a third of it)',
  ),
  rotationGracePeriod: Lifetime('a duration such as "24h" (default: renewBefore, at most 720h)'),
});
export type ApiTokenInputs = z.infer<typeof ApiTokenInputs>;

export type CheckFailure = { property: string; reason: string };

/** What a property's schema says it takes, looking through optional and nullable. */
export function expected(schema: z.ZodType | undefined): string | undefined {
  for (let s = schema; s; ) {
    if (s.description) return s.description;
    if (s instanceof z.ZodEnum) return s.options.map((o) => JSON.stringify(o)).join(' or ');
    if (s instanceof z.ZodBoolean) return 'true or false';
    s =
      s instanceof z.ZodOptional || s instanceof z.ZodNullable
        ? (s.unwrap() as z.ZodType)
        : undefined;
  }
  return undefined;
}

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
    const allowed = expected(shape[property]);
    const got = property in user ? ` (got ${JSON.stringify(user[property])})` : ' (missing)';
    return {
      property,
      reason: `${property}: ${issue.message}${got}${allowed ? `; expected: ${allowed}` : ''}`,
    };
  });
  return { value: undefined, failures };
}
