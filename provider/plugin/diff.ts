/**
 * What the plugin adds to the implementation's answers, as pure functions:
 * - the per-property diff the engine shows (`detailedDiff`), which a dynamic
 *   provider cannot report;
 * - for `pulumi import`, inputs that recreate an object read by its id alone, so
 *   that the code the CLI prints previews with no changes. Only what differs from
 *   the defaults is declared (a Lite customer's token needs two lines).
 */
import { isDeepStrictEqual } from 'node:util';
import { PERMISSION_FIELDS, permissionsWithDefaults } from '../../core/domain/permissions.ts';
import type { TokenType } from '../../core/schemas/index.ts';
import { NEVER } from './schema.ts';
import { isHidden, type Props } from './values.ts';

/** PropertyDiff.Kind of the provider protocol, by name. */
export type DiffKind =
  | 'ADD'
  | 'ADD_REPLACE'
  | 'DELETE'
  | 'DELETE_REPLACE'
  | 'UPDATE'
  | 'UPDATE_REPLACE';

export type DiffInput = {
  /** The inputs of the last step. */
  oldInputs: Props;
  /** The state: the outputs of the last step (or of a refresh). */
  olds: Props;
  /** The checked inputs of this step. */
  news: Props;
  /** What the implementation said replaces the object. */
  replaces: readonly string[];
};

/**
 * Each declared property whose value differs from the state's — or that the
 * program added or dropped — and each property the implementation names as a
 * cause of replacement. Empty when the change is none of those (a rotation due).
 */
export function detailedDiff({
  oldInputs,
  olds,
  news,
  replaces,
}: DiffInput): Record<string, DiffKind> {
  const diff: Record<string, DiffKind> = {};
  const same = (a: unknown, b: unknown) =>
    isDeepStrictEqual(a, b) || (a === NEVER && b === null) || (a === null && b === NEVER);
  const keys = new Set(
    [...Object.keys(oldInputs), ...Object.keys(news)].filter((k) => !isHidden(k)),
  );
  for (const key of keys) {
    const replace = replaces.includes(key);
    if (!(key in news)) {
      if (oldInputs[key] != null) diff[key] = replace ? 'DELETE_REPLACE' : 'DELETE';
    } else if (!(key in oldInputs) && !same(news[key], olds[key])) {
      diff[key] = replace ? 'ADD_REPLACE' : 'ADD';
    } else if (!same(news[key], key in olds ? olds[key] : oldInputs[key])) {
      diff[key] = replace ? 'UPDATE_REPLACE' : 'UPDATE';
    }
  }
  // Replaced for a reason no input shows (the object is gone from the platform).
  for (const key of replaces) diff[key] ??= 'UPDATE_REPLACE';
  return diff;
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** Inputs that declare the Entity read from the platform. */
export function entityInputsFrom(outs: Props): Props {
  return {
    displayName: outs.displayName,
    kind: outs.kind,
    tier: outs.tier,
    ...(str(outs.parentId) ? { parentId: outs.parentId } : {}),
  };
}

/** Inputs that declare the ApiToken read from the platform: its name, and what is not a default. */
export function apiTokenInputsFrom(outs: Props): Props {
  // Scopes default by type; the type itself defaults to secret.
  const defaults = { ...permissionsWithDefaults({ type: outs.type as TokenType }), type: 'secret' };
  const inputs: Props = { entityId: outs.entityId, displayName: outs.displayName };
  if (outs.status !== 'active') inputs.status = outs.status;
  inputs.expiresAt = outs.expiresAt ?? NEVER;
  for (const field of PERMISSION_FIELDS) {
    if (!isDeepStrictEqual(outs[field], defaults[field])) inputs[field] = outs[field];
  }
  return inputs;
}
