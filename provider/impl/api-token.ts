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
import type * as pulumi from '@pulumi/pulumi';
import { permissionProblems } from '../../platform/domain/permissions.ts';
import {
  type CheckedDeclaration,
  createOrGone,
  type DesiredPermissions,
  declaredPermissions,
  type FieldChange,
  PERMISSION_FIELDS,
  planQuota,
  planToken,
  type RotateAction,
  rotationPlan,
  rotationProblems,
  scopeCeiling,
  type TokenAction,
  type TokenDeclaration,
  type TokenFacts,
  type TokenPolicy,
} from '../../platform/external/index.ts';
import type { Entity, Token } from '../../platform/schemas/index.ts';
import { PlanError } from './config.ts';
import { type Platform, withPlatform } from './context.ts';
import { ApiTokenInputs, type CheckFailure, isUnknown, parseInputs } from './inputs.ts';
import { identityOf, urnKey } from './keys.ts';

export type ApiTokenOutputs = {
  entityId: string;
  displayName: string;
  status: Token['status'];
  expiresAt: string | null;
  adoptDefaultToken: boolean;
  tokenId: string;
  hint: string;
  value: string;
} & Required<DesiredPermissions> &
  RotationOutputs;

/**
 * Rotation on `pulumi up`, with the operator's semantics: a token declared
 * with a `lifetime` is rotated once its renewal time has passed (`renewBefore`
 * ahead of expiry), and the value it replaced keeps verifying — and stays in
 * `previousValue`, a secret — for `rotationGracePeriod`; the first `up` after
 * that drops it.
 */
type RotationOutputs = {
  lifetime: string | null;
  renewBefore: string | null;
  rotationGracePeriod: string | null;
  /** When the next `up` rotates the token; null without a lifetime. */
  renewalTime: string | null;
  /** Rotations made so far: part of each rotation's idempotency key. */
  rotations: number;
  previousValue: string | null;
  /** When `previousValue` stops verifying. */
  previousValueExpiresAt: string | null;
};

const ROTATION_INPUTS = ['lifetime', 'renewBefore', 'rotationGracePeriod'] as const;

type Previous = { value: string; until: string };

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

function declarationOf(news: Inputs): TokenDeclaration {
  return {
    desired: {
      entityId: news.entityId as string,
      name: news.displayName as string,
      status: news.status === 'disabled' ? 'disabled' : 'active',
      ...(news.expiresAt !== undefined ? { expiresAt: news.expiresAt as string | null } : {}),
      permissions: permissionsOf(news),
    },
    tokenId: typeof news.tokenId === 'string' ? news.tokenId : undefined,
    adoptDefaultToken: news.adoptDefaultToken === true,
    rotation: known(news.lifetime)
      ? {
          lifetime: news.lifetime,
          renewBefore: known(news.renewBefore) ? news.renewBefore : undefined,
          gracePeriod: known(news.rotationGracePeriod) ? news.rotationGracePeriod : undefined,
        }
      : undefined,
  };
}

const known = (v: unknown): v is string => typeof v === 'string' && !isUnknown(v);

/**
 * The §6 inputs, defaults filled in: the program is the whole truth, so a
 * permission changed out of band shows at refresh and is set back by `up`.
 */
function permissionsOf(news: Inputs): Required<DesiredPermissions> {
  const declared: DesiredPermissions = {};
  for (const field of PERMISSION_FIELDS) {
    if (news[field] !== undefined && !isUnknown(news[field])) {
      Object.assign(declared, { [field]: news[field] });
    }
  }
  return declaredPermissions(declared);
}

/** One issuance per create; the rotations so far come from the state. */
const policyOf = (inputs: Inputs, olds: Inputs = {}): TokenPolicy => ({
  identity: identityOf(inputs, declarationOf(inputs).desired),
  issuance: 0,
  rotations: typeof olds.rotations === 'number' ? olds.rotations : 0,
  now: new Date(),
});

/** The replaced value the state carries, while it still verifies. */
function carriedPrevious(olds: Inputs, now: Date): Previous | null {
  const { previousValue: value, previousValueExpiresAt: until } = olds;
  return typeof value === 'string' && typeof until === 'string' && Date.parse(until) > now.getTime()
    ? { value, until }
    : null;
}

/** What the state says of rotation: carried over by read and by updates that do not rotate. */
type Rotated = { rotations: number; previous: Previous | null };

const rotatedOf = (olds: Inputs, now = new Date()): Rotated => ({
  rotations: typeof olds.rotations === 'number' ? olds.rotations : 0,
  previous: carriedPrevious(olds, now),
});

function outputsOf(token: Token, news: Inputs, value: string, rotated: Rotated): ApiTokenOutputs {
  const rotation = declarationOf(news).rotation;
  const renewal = rotation ? rotationPlan(rotation, token.expiresAt, new Date()).renewalTime : null;
  return {
    entityId: token.entityId,
    displayName: token.name,
    status: token.status,
    expiresAt: token.expiresAt,
    adoptDefaultToken: news.adoptDefaultToken === true,
    tokenId: token.id,
    hint: token.hint,
    value,
    type: token.type,
    scopes: token.scopes,
    allowedOrigins: token.allowedOrigins,
    allowedIps: token.allowedIps,
    rateLimit: token.rateLimit,
    usageLimit: token.usageLimit,
    requireSignedRequests: token.requireSignedRequests,
    lifetime: known(news.lifetime) ? news.lifetime : null,
    renewBefore: known(news.renewBefore) ? news.renewBefore : null,
    rotationGracePeriod: known(news.rotationGracePeriod) ? news.rotationGracePeriod : null,
    renewalTime: renewal?.toISOString() ?? null,
    rotations: rotated.rotations,
    previousValue: rotated.previous?.value ?? null,
    previousValueExpiresAt: rotated.previous?.until ?? null,
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
    const inputs = { ...rest, status: news.status ?? 'active', __key: urnKey(news) };
    const { value, failures } = parseInputs(ApiTokenInputs, news);
    if (!value) return { inputs, failures };
    const rules = fieldRules(news);
    if (rules.length > 0) return { inputs, failures: rules };
    const declaration = knownDeclaration(__declaration);
    const found = await withPlatform(`${label(news)}: check`, async (p) => {
      const adoption = await checkAdoption(p, olds, news);
      if (adoption || !declaration) return adoption;
      return (
        (await checkScopes(p, declaration, news)) ?? (await checkQuota(p, declaration, olds, news))
      );
    });
    return { inputs, failures: found ? [found] : [] };
  },

  async diff(id: string, olds: Inputs, news: Inputs) {
    if (isUnknown(news.entityId)) {
      return { changes: true, replaces: ['entityId'], deleteBeforeReplace: true };
    }
    const declaration = declarationOf(news);
    return withPlatform(`${label(news)}: diff`, async (p) => {
      const facts = await p.tokens.facts(declaration, id);
      const policy = policyOf(news, olds);
      const plan = planToken(declaration, facts, policy);
      // Deleted on the platform since the last run: create it again.
      if (plan.action === 'create') {
        return { changes: true, replaces: ['tokenId'], deleteBeforeReplace: true };
      }
      if (plan.action === 'replace') {
        return {
          changes: true,
          replaces: plan.changes.filter((c) => c.action === 'replace').map(fieldName),
          deleteBeforeReplace: await replacementNeedsRoom(p, declaration.desired.entityId),
        };
      }
      // Values still unknown at preview show as changes to the sentinel: an update.
      const adoptChanged = (olds.adoptDefaultToken === true) !== (news.adoptDefaultToken === true);
      const rotationChanged = ROTATION_INPUTS.some((k) => (olds[k] ?? null) !== (news[k] ?? null));
      // A rotation due, or a replaced value whose grace is over, is an update too.
      const graceEnded = olds.previousValue != null && !carriedPrevious(olds, policy.now);
      return {
        changes:
          plan.action === 'update' ||
          plan.action === 'rotate' ||
          adoptChanged ||
          rotationChanged ||
          graceEnded,
      };
    });
  },

  async create(inputs: Inputs) {
    const declaration = declarationOf(inputs);
    return withPlatform(`Could not create ${label(inputs)}`, async (p) => {
      const facts = await p.tokens.facts(declaration, undefined);
      const settled = await settle(p, declaration, facts, policyOf(inputs), {});
      return {
        id: settled.token.id,
        outs: outputsOf(settled.token, inputs, settled.value, settled),
      };
    });
  },

  async read(id: string, props?: Inputs) {
    return withPlatform(`Could not read ApiToken ${id}`, async (p) => {
      const facts = await p.tokens.facts(declarationOf(props ?? {}), id);
      // Gone from the platform: drop it from the state; the next `up` creates it again.
      if (!facts.held || 'gone' in facts.held) return {};
      const actual = facts.held.token;
      // Rotated out of band: the hint tells, and the new value is revealed.
      const value = await currentValue(p, actual, props ?? {});
      const outs = outputsOf(actual, props ?? {}, value, rotatedOf(props ?? {}));
      return { id, props: { ...props, ...outs } };
    });
  },

  async update(id: string, olds: Inputs, news: Inputs) {
    const declaration = declarationOf(news);
    return withPlatform(`Could not update ${label(news)}`, async (p) => {
      const facts = await p.tokens.facts(declaration, id);
      const settled = await settle(p, declaration, facts, policyOf(news, olds), olds);
      return { outs: outputsOf(settled.token, news, settled.value, settled) };
    });
  },

  async delete(id: string, props: Inputs) {
    await withPlatform(`Could not delete ${label(props)}`, (p) => p.tokens.delete(id));
    for (const ids of claimedHere.values()) ids.delete(id);
  },
};

/** create or adopt, update, rotate: never more than this many actions in one step. */
const MAX_ACTIONS = 4;

type Settled = Rotated & { token: Token; value: string };

/**
 * Carries out the planner's actions until it has nothing left to do. `olds`
 * is the state (empty for a create): its value, rotations and replaced value.
 * Only a create issues a token; an update finding its token gone asks for a
 * refresh.
 */
async function settle(
  p: Platform,
  declaration: TokenDeclaration,
  facts: TokenFacts,
  policy: TokenPolicy,
  olds: Inputs,
): Promise<Settled> {
  const creating = Object.keys(olds).length === 0;
  let value: string | undefined;
  let previous = carriedPrevious(olds, policy.now);
  for (let i = 0; i < MAX_ACTIONS; i++) {
    const plan = planToken(declaration, facts, policy);
    switch (plan.action) {
      case 'adopt':
        claim(plan.token.entityId, plan.token.id);
        facts.held = { token: plan.token, origin: 'adopted' };
        break;
      case 'create': {
        if (!creating) {
          const gone = facts.held && 'gone' in facts.held ? facts.held.gone : 'held';
          throw new PlanError(`token ${gone} no longer exists; run \`pulumi refresh\``);
        }
        const made = await issue(p, declaration, plan.idempotencyKey);
        policy.issuance = plan.issuance;
        if ('gone' in made) {
          facts.held = made;
          break;
        }
        const { value: issued, ...token } = made.created;
        value = issued;
        facts.held = { token, origin: 'created' };
        break;
      }
      case 'update': {
        const token = await p.tokens.update(plan.token.id, plan.changes);
        facts.held = { token, origin: 'recorded' };
        break;
      }
      case 'rotate': {
        // What consumers were handed: the state's value (also after a crash
        // that left the rotation done but unrecorded), else the platform's.
        const before =
          typeof olds.value === 'string'
            ? olds.value
            : (value ?? (await p.tokens.reveal(plan.token.id)));
        const rotated = await p.tokens.rotatePlanned(plan);
        policy.rotations++;
        // Null: rotated again since outside the program; the next count rotates anew.
        if (!rotated) break;
        previous = await replaced(p, plan, before, rotated.value);
        value = rotated.value;
        facts.held = { token: rotated.token, origin: 'recorded' };
        break;
      }
      case 'none':
        value ??= await currentValue(p, plan.token, olds);
        return { token: plan.token, value, rotations: policy.rotations, previous };
      default:
        throw unplanned(plan);
    }
  }
  throw new PlanError('the token planner did not settle; run `pulumi up` again');
}

/** The value the state holds when it is still the token's (same hint), else the platform's. */
async function currentValue(p: Platform, token: Token, olds: Inputs): Promise<string> {
  return typeof olds.value === 'string' && olds.hint === token.hint
    ? olds.value
    : p.tokens.reveal(token.id);
}

/**
 * The value a rotation replaced, kept while its grace lasts — when it still
 * verifies: a rotation replayed after a crash hands back the new value, and
 * the state's old value is then the one to keep.
 */
async function replaced(
  p: Platform,
  plan: RotateAction,
  before: string,
  after: string,
): Promise<Previous | null> {
  if (plan.gracePeriodSeconds === 0 || before === after) return null;
  if (!(await p.tokens.verifies(plan.token.id, before))) return null;
  const until = new Date(Date.now() + plan.gracePeriodSeconds * 1000);
  return { value: before, until: until.toISOString() };
}

const fieldName = (c: FieldChange) => (c.field === 'name' ? 'displayName' : c.field);

/** A plan this method cannot carry out, as the planner's message. */
const unplanned = (plan: TokenAction) =>
  new PlanError('message' in plan ? plan.message : `cannot ${plan.action} here`);

/** A create, counted while under way: its token is claimed before its id is known. */
async function issue(p: Platform, declaration: TokenDeclaration, key: string) {
  creating++;
  try {
    const made = await createOrGone(p.tokens, declaration.desired, key, 'token');
    if ('created' in made) claim(made.created.entityId, made.created.id);
    return made;
  } finally {
    creating--;
  }
}

/**
 * A new declaration that adopts by `tokenId` fails at preview when the token
 * does not exist or belongs to another entity: the planner's judgement, made
 * before anything is created.
 */
async function checkAdoption(
  p: Platform,
  olds: Inputs,
  news: Inputs,
): Promise<CheckFailure | null> {
  const known = (v: unknown) => typeof v === 'string' && !isUnknown(v);
  if (Object.keys(olds).length > 0 || !known(news.tokenId) || !known(news.entityId)) return null;
  const declaration = declarationOf(news);
  const facts = await p.tokens.facts(declaration, undefined);
  const plan = planToken(declaration, facts, policyOf(news));
  if (plan.action !== 'refuse') return null;
  const property = plan.field ?? 'tokenId';
  return { property, reason: `${property}: ${plan.message}` };
}

/**
 * The rules between fields, per property: §6 (publishable needs origins,
 * cannot sign) and rotation (a lifetime or a fixed expiry, renewBefore shorter).
 */
function fieldRules(news: Inputs): CheckFailure[] {
  const rotation = {
    expiresAt: isUnknown(news.expiresAt) ? null : (news.expiresAt as string | null | undefined),
    lifetime: known(news.lifetime) ? news.lifetime : undefined,
    renewBefore: known(news.renewBefore) ? news.renewBefore : undefined,
  };
  return [...permissionProblems(permissionsOf(news)), ...rotationProblems(rotation)].map((x) => ({
    property: x.path,
    reason: `${x.path}: ${x.message}`,
  }));
}

/**
 * Plan-time scope ceiling: a declared scope that the entity's tier (declared
 * in the program, or the platform's) does not include fails the preview,
 * naming the resource, the scope and the tier — before anything is created.
 */
async function checkScopes(
  p: Platform,
  declaration: Declaration,
  news: Inputs,
): Promise<CheckFailure | null> {
  if (news.scopes === undefined || isUnknown(news.scopes)) return null;
  const tiers = await p.tiers();
  const entityId = isUnknown(news.entityId) ? null : (news.entityId as string);
  const tier =
    declaration.tier ??
    (entityId ? (await entityAsFirstSeen(p, entityId))?.entity.tier : undefined);
  if (!tier) return null;
  const refusal = scopeCeiling(declarationOf(news), { tier: { name: tier, table: tiers } });
  return refusal ? { property: 'scopes', reason: `${label(news)}: ${refusal.message}` } : null;
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
