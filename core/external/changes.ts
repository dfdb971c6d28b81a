/**
 * What must change to make the platform match a declaration. Pure: the operator
 * (Entity/ApiToken custom resources) and the Pulumi provider (`diff`) both ask
 * these functions, so they can never disagree about what is up to date.
 */

import { isDeepStrictEqual } from 'node:util';
import { PERMISSION_FIELDS, permissionsWithDefaults } from '../domain/permissions.ts';
import type { Entity } from '../schemas/entity.ts';
import type { TokenPermissions } from '../schemas/permissions.ts';
import type { Token, TokenStatus } from '../schemas/token.ts';

/** `update` is done in place by a PATCH; `replace` needs a new object. */
export type ChangeAction = 'update' | 'replace';
export type FieldChange = { field: string; from: unknown; to: unknown; action: ChangeAction };

export type DesiredEntity = {
  name: string;
  kind: Entity['kind'];
  tier: string;
  parentId: string | null;
  /** Only decides what `create` does; never a reason to change an existing entity. */
  defaultToken: boolean;
};

/** The permission fields a declaration may set; each one left out is the platform's to decide. */
export type DesiredPermissions = Partial<Omit<TokenPermissions, 'usage'>>;

export type DesiredToken = {
  entityId: string;
  name: string;
  status: TokenStatus;
  /** `undefined` leaves the expiry to the platform (365 days) and never reports drift for it. */
  expiresAt?: string | null;
  /** README "Token permissions and limits" fields: `type` is fixed at creation (a change replaces), the rest change in place. */
  permissions?: DesiredPermissions;
};

/**
 * A declaration's permission fields with README "Token permissions and limits"'s defaults for what it leaves out, so
 * that the declaration is the whole truth: a field changed out of band, or
 * dropped from the declaration, shows as a change and is set back.
 */
export function declaredPermissions(p: DesiredPermissions): Required<DesiredPermissions> {
  return permissionsWithDefaults(p);
}

export { PERMISSION_FIELDS };

export function entityChanges(desired: DesiredEntity, actual: Entity): FieldChange[] {
  const changes: FieldChange[] = [];
  compare(changes, 'kind', actual.kind, desired.kind, 'replace');
  compare(changes, 'parentId', actual.parentId, desired.parentId, 'replace');
  compare(changes, 'name', actual.name, desired.name, 'update');
  compare(changes, 'tier', actual.tier, desired.tier, 'update');
  return changes;
}

export function tokenChanges(desired: DesiredToken, actual: Token): FieldChange[] {
  const changes: FieldChange[] = [];
  compare(changes, 'entityId', actual.entityId, desired.entityId, 'replace');
  compare(changes, 'name', actual.name, desired.name, 'update');
  compare(changes, 'status', actual.status, desired.status, 'update');
  if (desired.expiresAt !== undefined && !sameInstant(actual.expiresAt, desired.expiresAt)) {
    changes.push({
      field: 'expiresAt',
      from: actual.expiresAt,
      to: desired.expiresAt,
      action: 'update',
    });
  }
  for (const field of PERMISSION_FIELDS) {
    const want = desired.permissions?.[field];
    if (want === undefined) continue;
    // Key order is no difference: Pulumi hands objects over with sorted keys.
    if (!isDeepStrictEqual(want, actual[field])) {
      changes.push({
        field,
        from: actual[field],
        to: want,
        action: field === 'type' ? 'replace' : 'update',
      });
    }
  }
  return changes;
}

export const needsReplace = (changes: readonly FieldChange[]): boolean =>
  changes.some((c) => c.action === 'replace');

/** The PATCH body that applies the in-place changes. */
export function patchOf(changes: readonly FieldChange[]): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const change of changes) if (change.action === 'update') patch[change.field] = change.to;
  return patch;
}

export function describeChanges(changes: readonly FieldChange[]): string {
  return changes.map((c) => `${c.field}: ${show(c.from)} → ${show(c.to)}`).join(', ');
}

function compare(
  out: FieldChange[],
  field: string,
  from: unknown,
  to: unknown,
  action: ChangeAction,
) {
  if (from !== to) out.push({ field, from, to, action });
}

function sameInstant(a: string | null, b: string | null): boolean {
  if (a === null || b === null) return a === b;
  return Date.parse(a) === Date.parse(b);
}

function show(value: unknown): string {
  return value === null ? 'none' : JSON.stringify(value);
}
