/**
 * The Entity planner: the one next action for an Entity declaration, with the
 * idempotency key to use. Pure. It judges the tier rules (README "Platform API") with the
 * platform's own tier table (GET /v1/tiers), so a deployment's TOKENPLANE_TIERS
 * is honoured; the platform still enforces them (under concurrency), this only
 * refuses early with the same words.
 *
 * | facts                                              | action                     |
 * |----------------------------------------------------|----------------------------|
 * | declared tier not in the platform's table          | refuse InvalidSpec         |
 * | declared parent does not exist                     | refuse NotFound            |
 * | parent known and a customer                        | refuse InvalidSpec         |
 * | parent known and ranked below the declared tier    | refuse TierCeilingExceeded |
 * | the held entity is gone from the platform          | create (replacing it)      |
 * | nothing held, `externalId` names no entity         | refuse NotFound            |
 * | nothing held, `externalId` found                   | adopt it                   |
 * | nothing held otherwise                             | create                     |
 * | held, kind or parent differ                        | replace                    |
 * | held, tier change over the new tier's quota        | refuse QuotaExceeded       |
 * | held, tier change below a child's tier             | refuse TierCeilingExceeded |
 * | held, name or tier differ                          | update (the changes)       |
 * | held, up to date                                   | none                       |
 */
import { checkCeiling, checkDowngradeQuota, checkParentDowngrade } from '../domain/rules.ts';
import type { TierTable } from '../domain/tiers.ts';
import type { Entity } from '../schemas/entity.ts';
import {
  type DesiredEntity,
  describeChanges,
  entityChanges,
  type FieldChange,
  needsReplace,
} from './changes.ts';
import { notFound, Reasons, type Refusal, refuse } from './reasons.ts';

export type EntityDeclaration = {
  desired: DesiredEntity;
  /** Adopt this existing platform entity. */
  externalId?: string | undefined;
};

export type ParentFacts = { name: string; tier: string; kind: Entity['kind'] };

export type EntityFacts = {
  tiers: TierTable;
  /** The entity this declaration holds; `{ gone }` when the recorded one no longer exists. */
  held?: { entity: Entity } | { gone: string } | undefined;
  /** What `externalId` names (looked up while nothing is held); null: no such entity. */
  adoptee?: Entity | null | undefined;
  /** The parent, when the driver knows it (the platform judges otherwise); null: no such entity. */
  parent?: ParentFacts | null | undefined;
  /** Tiers of the held entity's children, when a tier change is to be judged. */
  childTiers?: readonly string[] | undefined;
};

export type EntityAction =
  | { action: 'create'; idempotencyKey: string; replacing?: string }
  | { action: 'adopt'; entity: Entity }
  | { action: 'update'; entity: Entity; changes: FieldChange[] }
  | { action: 'replace'; entity: Entity; changes: FieldChange[]; message: string }
  | { action: 'none'; entity: Entity }
  | Refusal;

/** `identity`: stable for the declaration across crashes and retries. */
export function planEntity(
  declaration: EntityDeclaration,
  facts: EntityFacts,
  identity: string,
): EntityAction {
  const { desired } = declaration;
  const judged = judgeTier(desired, facts);
  if (judged) return judged;
  const held = facts.held;
  if (held && 'gone' in held) {
    return { action: 'create', idempotencyKey: `${identity}:${held.gone}`, replacing: held.gone };
  }
  if (!held) {
    if (!declaration.externalId) return { action: 'create', idempotencyKey: `${identity}:first` };
    if (!facts.adoptee) {
      return notFound(
        'entity',
        declaration.externalId,
        'externalId',
        'remove externalId to create a new entity',
      );
    }
    return { action: 'adopt', entity: facts.adoptee };
  }
  const entity = held.entity;
  const changes = entityChanges(desired, entity);
  if (needsReplace(changes)) {
    return {
      action: 'replace',
      entity,
      changes,
      message:
        `The platform entity differs in fields that cannot change in place (${describeChanges(changes)}). ` +
        'Fix the declaration, or delete and recreate the entity.',
    };
  }
  if (changes.length === 0) return { action: 'none', entity };
  return judgeTierChange(desired.tier, entity, facts) ?? { action: 'update', entity, changes };
}

/** The declared tier exists and fits under the parent. */
function judgeTier(desired: DesiredEntity, facts: EntityFacts): Refusal | null {
  const { tiers, parent } = facts;
  if (!tiers.find(desired.tier)) {
    return refuse(
      Reasons.InvalidSpec,
      `Tier "${desired.tier}" is not a tier of this platform; choose one of: ${tiers.names.join(', ')}.`,
      false,
      'tier',
    );
  }
  if (parent === undefined) return null;
  if (parent === null) {
    return notFound('entity', String(desired.parentId), 'parentId', 'declare another parent');
  }
  if (parent.kind !== 'reseller') {
    return refuse(
      Reasons.InvalidSpec,
      `The parent entity "${parent.name}" is a customer; only resellers have children. Choose a reseller as parent.`,
      false,
      'parentId',
    );
  }
  if (!tiers.find(parent.tier)) return null;
  const ceiling = checkCeiling(tiers, desired.tier, parent.tier, `parent entity "${parent.name}"`);
  return ceiling ? refuse(Reasons.TierCeilingExceeded, ceiling.detail, true, 'tier') : null;
}

/** A tier change leaves the entity within the new quota and above its children. */
function judgeTierChange(tier: string, entity: Entity, facts: EntityFacts): Refusal | null {
  if (tier === entity.tier) return null;
  const name = `entity "${entity.name}"`;
  const quota = checkDowngradeQuota(facts.tiers, tier, entity.tokenCount, name);
  if (quota) return refuse(Reasons.QuotaExceeded, quota.detail, true, 'tier');
  const known = (facts.childTiers ?? []).filter((t) => facts.tiers.find(t));
  const below = checkParentDowngrade(facts.tiers, tier, known, name);
  return below ? refuse(Reasons.TierCeilingExceeded, below.detail, true, 'tier') : null;
}
