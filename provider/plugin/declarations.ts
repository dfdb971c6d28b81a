/**
 * The plugin's side of the plan-time quota: the `__declaration` input that the
 * dynamic provider's ApiToken class computes in the program
 * (provider/declarations.ts), built here from what the engine has checked so far
 * in this provider process — a program in YAML, Python or Go computes nothing.
 *
 * The engine checks resources one at a time in registration order, and a token
 * is registered after the Entity whose output it takes. So when a token is
 * checked, its group holds the tokens checked before it, itself included: a
 * lower bound of the program's tokens for that entity, which is what the
 * quota check (provider/impl/quota.ts) needs to fail only when the program is
 * certain to be over the quota — at the latest on the last token.
 *
 * Grouping: by `entityId` when it is known (an existing entity, or during `up`
 * once the entity is created); at preview a new entity's id is unknown, and the
 * token then belongs to the one Entity of this process whose id is still to come —
 * when there are several, the engine does not say which, and only the
 * platform's quota applies to that token (it is refused at `up`, not at preview).
 */
import { isUnknown } from '../impl/inputs.ts';
import type { Props } from './values.ts';

type EntityDeclaration = { label: string; tier: unknown; defaultToken: unknown };
type Group = { key: string; entity?: EntityDeclaration; members: Map<string, boolean> };

/** Entities checked in this process, by URN; and the URN of each known entity id. */
const entities = new Map<string, EntityDeclaration>();
const urnOfId = new Map<string, string>();
/** Entities checked whose id is still unknown (new, or being replaced). */
const pending = new Set<string>();
const groups = new Map<string, Group>();

/** The resource name of a URN (its last `::` part). */
export const nameOf = (urn: string): string => urn.slice(urn.lastIndexOf('::') + 2);

/** An Entity was checked: a new one (no old inputs) has no id yet. */
export function entityChecked(urn: string, olds: Props, news: Props): void {
  const label = typeof news.displayName === 'string' ? news.displayName : nameOf(urn);
  entities.set(urn, { label, tier: news.tier, defaultToken: news.defaultToken });
  if (Object.keys(olds).length === 0) pending.add(urn);
}

/** An Entity's id is known (diffed, created or read), or unknown again (replaced). */
export function entityIdentified(urn: string, id: string | null): void {
  if (id === null) {
    pending.add(urn);
    return;
  }
  pending.delete(urn);
  urnOfId.set(id, urn);
}

function groupOf(token: string, entityId: unknown): Group {
  let key: string;
  let entityUrn: string | undefined;
  if (typeof entityId === 'string' && !isUnknown(entityId)) {
    key = `id:${entityId}`;
    entityUrn = urnOfId.get(entityId);
  } else if (pending.size === 1) {
    entityUrn = pending.values().next().value as string;
    key = `urn:${entityUrn}`;
  } else {
    key = `token:${token}`;
  }
  let group = groups.get(key);
  if (!group) {
    group = { key, members: new Map() };
    groups.set(key, group);
  }
  // The entity's declaration as of its latest check.
  group.entity = entityUrn ? entities.get(entityUrn) : undefined;
  return group;
}

/** A token is being checked: its `__declaration` (provider/impl/quota.ts). */
export function tokenDeclaration(urn: string, news: Props): Props {
  const self = nameOf(urn);
  const group = groupOf(urn, news.entityId);
  group.members.set(self, news.adoptDefaultToken === true);
  return {
    self,
    group: group.key,
    entity: group.entity?.label ?? (typeof news.entityId === 'string' ? news.entityId : self),
    members: [...group.members.keys()],
    ...(group.entity
      ? { tier: group.entity.tier, entityDefaultToken: group.entity.defaultToken ?? true }
      : {}),
    defaultAdopted: [...group.members.values()].some(Boolean),
  };
}
