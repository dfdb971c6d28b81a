/**
 * The ApiToken dynamic provider: a thin driver of TokenExternal (the contract the
 * Kubernetes operator uses too), plus the plan-time quota check.
 *
 * Plan-time quota, and how the checks of sibling tokens see each other:
 * - The program side (provider/declarations.ts) groups ApiTokens by the Entity
 *   they name — by resource identity, because at preview a new entity's id is
 *   still unknown — and passes every token a `__declaration` input: the group,
 *   the names of all its members, the entity's declared tier and `defaultToken`,
 *   and whether any member adopts the default token. So the first token checked
 *   already knows how many tokens the program declares for its entity.
 * - The engine runs `check` one resource at a time, in registration order, in one
 *   provider process. Each check records here what it learnt about its own
 *   declaration (already managed? adopts an existing token?); with the tokens
 *   the platform held for the entity when this process first looked (one read
 *   per entity and operation, see entityAsFirstSeen), planQuota (platform/external) computes a
 *   lower bound of what the entity will hold and fails only when that bound is
 *   over the quota. The last member checked sees every sibling, so the bound is
 *   then exact. Tokens created or adopted by this process (during `up`, creates
 *   run while later siblings are still being checked) are claimed by their
 *   declarations and never counted twice.
 */
import { randomUUID } from 'node:crypto';
import type * as pulumi from '@pulumi/pulumi';
import {
  type CheckedDeclaration,
  type DesiredToken,
  type FieldChange,
  needsReplace,
  planQuota,
  tokenChanges,
} from '../../platform/external/index.ts';
import type { Entity, Token } from '../../platform/schemas/index.ts';
import { PlanError } from './config.ts';
import { type Platform, withPlatform } from './context.ts';
import { ApiTokenInputs, type CheckFailure, isUnknown, parseInputs } from './inputs.ts';

export type ApiTokenOutputs = {
  entityId: string;
  displayName: string;
  status: Token['status'];
  expiresAt: string | null;
  adoptDefaultToken: boolean;
  tokenId: string;
  hint: string;
  value: string;
};

/** The `__declaration` input the ApiToken class computes in the program. */
export type Declaration = {
  self: string;
  group: string;
  /** How a person knows the entity (its resource name, or its id). */
  entity: string;
  members: string[];
  tier?: string;
  entityDefaultToken?: boolean;
  defaultAdopted?: boolean;
};

type Inputs = Record<string, unknown>;

/** What this process learnt: per group, each checked declaration. */
const checked = new Map<string, Map<string, CheckedDeclaration>>();
/** Per entity, the tokens this process created or adopted (claimed by their declarations). */
const claimedHere = new Map<string, Set<string>>();

function claim(entityId: string, tokenId: string): void {
  const ids = claimedHere.get(entityId) ?? new Set<string>();
  ids.add(tokenId);
  claimedHere.set(entityId, ids);
}
/** Creates under way in this process (their ids are not known yet). */
let creating = 0;

type FirstSeen = { entity: Entity; unclaimed: number };
/**
 * Per entity, the platform as the first check of this process saw it: the entity,
 * and its tokens that no declaration had claimed then. Checks run one at a time
 * on the engine's critical path, so one read per entity and operation rather than
 * one per token; and every check of an `up` judges the plan against the platform
 * as it was before the operation changed it — the view `preview` had.
 */
const firstSeen = new Map<string, Promise<FirstSeen | null>>();

function entityAsFirstSeen(p: Platform, entityId: string): Promise<FirstSeen | null> {
  let seen = firstSeen.get(entityId);
  if (!seen) {
    seen = p.entities.find(entityId).then((entity) => {
      if (!entity) return null;
      // Tokens this process created or adopted for the entity (or is creating)
      // belong to declarations counted already.
      const claimed = (claimedHere.get(entity.id)?.size ?? 0) + creating;
      return { entity, unclaimed: Math.max(0, entity.tokenCount - claimed) };
    });
    firstSeen.set(entityId, seen);
    // Not found (yet), or failed: ask again next time.
    const forget = () => firstSeen.delete(entityId);
    seen.then((s) => s ?? forget(), forget);
  }
  return seen;
}

function desiredOf(news: Inputs): DesiredToken {
  return {
    entityId: news.entityId as string,
    name: news.displayName as string,
    status: news.status === 'disabled' ? 'disabled' : 'active',
    ...(news.expiresAt !== undefined ? { expiresAt: news.expiresAt as string | null } : {}),
  };
}

function outputsOf(token: Token, news: Inputs, value: string): ApiTokenOutputs {
  return {
    entityId: token.entityId,
    displayName: token.name,
    status: token.status,
    expiresAt: token.expiresAt,
    adoptDefaultToken: news.adoptDefaultToken === true,
    tokenId: token.id,
    hint: token.hint,
    value,
  };
}

const label = (news: Inputs) =>
  typeof news.displayName === 'string' && !isUnknown(news.displayName)
    ? `ApiToken "${news.displayName}"`
    : 'ApiToken';

export const apiTokenProvider: pulumi.dynamic.ResourceProvider = {
  async check(olds: Inputs, news: Inputs) {
    // The declaration is only for this check: kept out of the state, where it
    // would grow with the square of the number of tokens.
    const { __declaration, ...rest } = news;
    const inputs = { ...rest, status: news.status ?? 'active' };
    const { value, failures } = parseInputs(ApiTokenInputs, news);
    if (!value) return { inputs, failures };
    const declaration = knownDeclaration(__declaration);
    if (!declaration) return { inputs, failures: [] };
    const quota = await withPlatform(`${label(news)}: check`, (p) =>
      checkQuota(p, declaration, olds, news),
    );
    return { inputs, failures: quota ? [quota] : [] };
  },

  async diff(id: string, olds: Inputs, news: Inputs) {
    if (isUnknown(news.entityId)) {
      return { changes: true, replaces: ['entityId'], deleteBeforeReplace: true };
    }
    const desired = desiredOf(news);
    return withPlatform(`${label(news)}: diff`, async (p) => {
      const seen = await p.tokens.observe(id, desired);
      // Deleted on the platform since the last run: create it again.
      if (!seen.exists) return { changes: true, replaces: ['tokenId'], deleteBeforeReplace: true };
      const adoptsOther =
        typeof news.tokenId === 'string' && !isUnknown(news.tokenId) && news.tokenId !== id;
      const changes = seen.changes.filter((c) => !isUnknown(c.to));
      if (needsReplace(changes) || adoptsOther || isUnknown(news.tokenId)) {
        const replaces = changes.filter((c) => c.action === 'replace').map(fieldName);
        if (adoptsOther || isUnknown(news.tokenId)) replaces.push('tokenId');
        return {
          changes: true,
          replaces,
          deleteBeforeReplace: await replacementNeedsRoom(p, desired.entityId),
        };
      }
      const unknownUpdate = ['displayName', 'status', 'expiresAt'].some((f) => isUnknown(news[f]));
      const adoptChanged = (olds.adoptDefaultToken === true) !== (news.adoptDefaultToken === true);
      return { changes: changes.length > 0 || unknownUpdate || adoptChanged };
    });
  },

  async create(inputs: Inputs) {
    const desired = desiredOf(inputs);
    return withPlatform(`Could not create ${label(inputs)}`, async (p) => {
      const adoptee = await findAdoptee(p, inputs);
      if (adoptee) {
        claim(adoptee.entityId, adoptee.id);
        const changes = tokenChanges(desired, adoptee);
        const token = changes.length > 0 ? await p.tokens.update(adoptee.id, changes) : adoptee;
        const value = await p.tokens.reveal(token.id);
        return { id: token.id, outs: outputsOf(token, inputs, value) };
      }
      creating++;
      try {
        // One key per create: the client repeats the request with it on timeouts
        // and 5xx, and the platform answers a repeat with the first result.
        const created = await p.tokens.create(desired, `pulumi-token-${randomUUID()}`);
        claim(created.entityId, created.id);
        const { value, ...token } = created;
        return { id: created.id, outs: outputsOf(token, inputs, value) };
      } finally {
        creating--;
      }
    });
  },

  async read(id: string, props?: Inputs) {
    return withPlatform(`Could not read ApiToken ${id}`, async (p) => {
      const actual = await p.tokens.find(id);
      // Gone from the platform: drop it from the state; the next `up` creates it again.
      if (!actual) return {};
      // Rotated out of band: the hint tells, and the new value is revealed.
      const value =
        props?.hint === actual.hint && typeof props?.value === 'string'
          ? props.value
          : await p.tokens.reveal(id);
      return { id, props: { ...props, ...outputsOf(actual, props ?? {}, value) } };
    });
  },

  async update(id: string, olds: Inputs, news: Inputs) {
    const desired = desiredOf(news);
    return withPlatform(`Could not update ${label(news)}`, async (p) => {
      const seen = await p.tokens.observe(id, desired);
      if (!seen.exists) throw new PlanError(`token ${id} no longer exists; run \`pulumi refresh\``);
      const token = seen.upToDate ? seen.actual : await p.tokens.update(id, seen.changes);
      const value =
        typeof olds.value === 'string' && olds.hint === token.hint
          ? olds.value
          : await p.tokens.reveal(id);
      return { outs: outputsOf(token, news, value) };
    });
  },

  async delete(id: string, props: Inputs) {
    await withPlatform(`Could not delete ${label(props)}`, (p) => p.tokens.delete(id));
    for (const ids of claimedHere.values()) ids.delete(id);
  },
};

const fieldName = (c: FieldChange) => (c.field === 'name' ? 'displayName' : c.field);

/** The token to take over instead of creating one (`tokenId`, or the entity's default token). */
async function findAdoptee(p: Platform, inputs: Inputs): Promise<Token | null> {
  const entityId = inputs.entityId as string;
  if (typeof inputs.tokenId === 'string') {
    const token = await p.tokens.find(inputs.tokenId);
    if (!token) {
      throw new PlanError(
        `tokenId: no token ${inputs.tokenId} exists (or it is outside the API key's reach); ` +
          'remove tokenId to create a new token',
      );
    }
    if (token.entityId !== entityId) {
      throw new PlanError(
        `tokenId: token ${inputs.tokenId} belongs to entity ${token.entityId}, not ${entityId}`,
      );
    }
    return token;
  }
  if (inputs.adoptDefaultToken === true) {
    // No default token left (created with defaultToken: false, or removed): a new
    // token takes its place, so the declaration still holds after an outage.
    return p.tokens.findDefault(entityId);
  }
  return null;
}

/**
 * Replacing a token creates the new one before deleting the old one, unless that
 * would need quota + 1 (every Lite token): then it deletes first.
 */
async function replacementNeedsRoom(p: Platform, entityId: string): Promise<boolean> {
  const entity = await p.entities.find(entityId);
  return !entity || entity.tokenCount + 1 > entity.tokenQuota;
}

/** Whether a new declaration takes over a token that is on the platform already. */
async function adopteeExists(p: Platform, entityId: string, news: Inputs): Promise<boolean> {
  if (typeof news.tokenId === 'string' && !isUnknown(news.tokenId)) {
    const token = await p.tokens.find(news.tokenId);
    return token?.entityId === entityId;
  }
  if (news.adoptDefaultToken === true) return (await p.tokens.findDefault(entityId)) !== null;
  return false;
}

function knownDeclaration(raw: unknown): Declaration | null {
  if (!raw || typeof raw !== 'object') return null;
  const d = raw as Record<string, unknown>;
  if (typeof d.self !== 'string' || typeof d.group !== 'string' || !Array.isArray(d.members)) {
    return null;
  }
  const known = <T>(v: unknown, type: string): T | undefined =>
    typeof v === type && !isUnknown(v) ? (v as T) : undefined;
  const tier = known<string>(d.tier, 'string');
  const entityDefaultToken = known<boolean>(d.entityDefaultToken, 'boolean');
  const defaultAdopted = known<boolean>(d.defaultAdopted, 'boolean');
  return {
    self: d.self,
    group: d.group,
    entity: typeof d.entity === 'string' ? d.entity : d.group,
    members: d.members.filter((m): m is string => typeof m === 'string'),
    ...(tier !== undefined ? { tier } : {}),
    ...(entityDefaultToken !== undefined ? { entityDefaultToken } : {}),
    ...(defaultAdopted !== undefined ? { defaultAdopted } : {}),
  };
}

async function checkQuota(
  p: Platform,
  declaration: Declaration,
  olds: Inputs,
  news: Inputs,
): Promise<CheckFailure | null> {
  const [tiers] = await Promise.all([p.tiers(), p.verifyCredential()]);
  const entityId = isUnknown(news.entityId) ? null : (news.entityId as string);
  const seen = entityId ? await entityAsFirstSeen(p, entityId) : null;
  const entity = seen?.entity ?? null;
  const unclaimed = seen?.unclaimed ?? 0;
  const tier = declaration.tier ?? entity?.tier;
  if (!tier || !tiers.find(tier)) return null;

  const managed = Object.keys(olds).length > 0 && olds.entityId === news.entityId;
  const adoptsExisting = !managed && entity !== null && (await adopteeExists(p, entity.id, news));
  const group = checked.get(declaration.group) ?? new Map<string, CheckedDeclaration>();
  checked.set(declaration.group, group);
  group.set(declaration.self, { name: declaration.self, managed, adoptsExisting });

  const members = new Set(declaration.members);
  const violation = planQuota(tiers, {
    entityName: entity?.name ?? declaration.entity,
    tier,
    declared: declaration.members,
    checked: [...group.values()].filter((d) => members.has(d.name)),
    entityExists: entity !== null,
    platformTokens: unclaimed,
    willIssueDefault: declaration.entityDefaultToken !== false,
    defaultAdopted: declaration.defaultAdopted === true,
  });
  return violation ? { property: 'entityId', reason: violation.detail } : null;
}
