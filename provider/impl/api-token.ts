/**
 * The ApiToken dynamic provider: a thin driver of the executor
 * (core/external/executor.ts), which the Kubernetes operator drives too.
 * Its hooks claim adopted tokens for the plan-time quota (quota.ts) and keep
 * the value a rotation replaced; `check` adds the plan-time rules, scope
 * ceiling and quota.
 */
import type * as pulumi from '@pulumi/pulumi';
import { permissionProblems } from '../../core/domain/permissions.ts';
import {
  type DesiredPermissions,
  declaredPermissions,
  type FieldChange,
  nextTokenAction,
  PERMISSION_FIELDS,
  type RotateAction,
  type RotationPolicy,
  rotationPlan,
  rotationProblems,
  scopeCeiling,
  settleToken,
  type TokenDeclaration,
  type TokenLedger,
} from '../../core/external/index.ts';
import type { Token } from '../../core/schemas/index.ts';
import { PlanError } from './config.ts';
import { type Platform, withPlatform } from './context.ts';
import { ApiTokenInputs, type CheckFailure, isUnknown, known, parseInputs } from './inputs.ts';
import { identityOf, urnKey } from './keys.ts';
import {
  checkQuota,
  claim,
  type Declaration,
  entityTier,
  readDeclaration,
  unclaim,
} from './quota.ts';

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

/** The inputs `check` hands on: the program's, and the digest of the URN (keys.ts). */
type Inputs = ApiTokenInputs & { __key?: unknown };
/** The state: the outputs of the last step (none before the first create). */
type State = Partial<ApiTokenOutputs>;
/** What the outputs carry over from inputs or state. */
type Given = Pick<
  Partial<Inputs | ApiTokenOutputs>,
  'adoptDefaultToken' | (typeof ROTATION_INPUTS)[number]
>;

type Previous = { value: string; until: string };

function declarationOf(news: Inputs): TokenDeclaration {
  return {
    desired: {
      entityId: news.entityId,
      name: news.displayName,
      status: news.status === 'disabled' ? 'disabled' : 'active',
      ...(news.expiresAt !== undefined ? { expiresAt: news.expiresAt } : {}),
      permissions: permissionsOf(news),
    },
    tokenId: news.tokenId,
    adoptDefaultToken: news.adoptDefaultToken === true,
    rotation: rotationOf(news),
  };
}

function rotationOf(given: Given): RotationPolicy | undefined {
  const { lifetime, renewBefore, rotationGracePeriod } = given;
  if (!known(lifetime)) return undefined;
  return {
    lifetime,
    renewBefore: known(renewBefore) ? renewBefore : undefined,
    gracePeriod: known(rotationGracePeriod) ? rotationGracePeriod : undefined,
  };
}

/**
 * The permission inputs, defaults filled in: the program is the whole truth, so a
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
const ledgerOf = (news: Inputs, olds: State, now: Date): TokenLedger => ({
  identity: identityOf(news, declarationOf(news).desired),
  issuance: 0,
  rotations: olds.rotations ?? 0,
  now,
});

/** The replaced value the state carries, while it still verifies. */
function carriedPrevious(olds: State, now: Date): Previous | null {
  const { previousValue: value, previousValueExpiresAt: until } = olds;
  return value != null && until != null && Date.parse(until) > now.getTime()
    ? { value, until }
    : null;
}

/** What a step learnt beyond the token: its value, the rotation count, the replaced value, the renewal time. */
type Settled = {
  token: Token;
  value: string;
  rotations: number;
  previous: Previous | null;
  renewalTime: Date | null;
};

function outputsOf(given: Given, s: Settled): ApiTokenOutputs {
  const { token } = s;
  return {
    entityId: token.entityId,
    displayName: token.name,
    status: token.status,
    expiresAt: token.expiresAt,
    adoptDefaultToken: given.adoptDefaultToken === true,
    tokenId: token.id,
    hint: token.hint,
    value: s.value,
    type: token.type,
    scopes: token.scopes,
    allowedOrigins: token.allowedOrigins,
    allowedIps: token.allowedIps,
    rateLimit: token.rateLimit,
    usageLimit: token.usageLimit,
    requireSignedRequests: token.requireSignedRequests,
    lifetime: known(given.lifetime) ? given.lifetime : null,
    renewBefore: known(given.renewBefore) ? given.renewBefore : null,
    rotationGracePeriod: known(given.rotationGracePeriod) ? given.rotationGracePeriod : null,
    renewalTime: s.renewalTime?.toISOString() ?? null,
    rotations: s.rotations,
    previousValue: s.previous?.value ?? null,
    previousValueExpiresAt: s.previous?.until ?? null,
  };
}

const label = (given: { displayName?: string | undefined }) =>
  known(given.displayName) ? `ApiToken "${given.displayName}"` : 'ApiToken';

export const apiTokenProvider: pulumi.dynamic.ResourceProvider = {
  async check(olds: Partial<Inputs>, news: Record<string, unknown>) {
    // The declaration is only for this check: kept out of the state, where it
    // would grow with the square of the number of tokens.
    const { __declaration, ...rest } = news;
    const inputs = { ...rest, status: news.status ?? 'active', __key: urnKey(news) };
    const { value, failures } = parseInputs(ApiTokenInputs, news);
    if (!value) return { inputs, failures };
    const rules = fieldRules(value);
    if (rules.length > 0) return { inputs, failures: rules };
    const declaration = readDeclaration(__declaration);
    const found = await withPlatform(`${label(value)}: check`, async (p) => {
      const adoption = await checkAdoption(p, olds, value);
      if (adoption || !declaration) return adoption;
      return (
        (await checkScopes(p, declaration, value)) ??
        (await checkQuota(p, declaration, olds, value))
      );
    });
    return { inputs, failures: found ? [found] : [] };
  },

  async diff(id: string, olds: State, news: Inputs) {
    if (isUnknown(news.entityId)) {
      return { changes: true, replaces: ['entityId'], deleteBeforeReplace: true };
    }
    const declaration = declarationOf(news);
    return withPlatform(`${label(news)}: diff`, async (p) => {
      const ledger = ledgerOf(news, olds, p.now());
      const sight = { heldId: id };
      const plan = await nextTokenAction({ tokens: p.tokens, declaration, ledger, sight });
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
      const graceEnded = olds.previousValue != null && !carriedPrevious(olds, ledger.now);
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
    return withPlatform(`Could not create ${label(inputs)}`, async (p) => {
      const settled = await settle(p, inputs, {});
      return { id: settled.token.id, outs: outputsOf(inputs, settled) };
    });
  },

  async read(id: string, props: State = {}) {
    return withPlatform(`Could not read ApiToken ${id}`, async (p) => {
      const actual = await p.tokens.find(id);
      // Gone from the platform: drop it from the state; the next `up` creates it again.
      if (!actual) return {};
      const now = p.now();
      const rotation = rotationOf(props);
      const outs = outputsOf(props, {
        token: actual,
        // Rotated out of band: the hint tells, and the new value is revealed.
        value: await currentValue(p, actual, props),
        rotations: props.rotations ?? 0,
        previous: carriedPrevious(props, now),
        renewalTime: rotation ? rotationPlan(rotation, actual.expiresAt, now).renewalTime : null,
      });
      return { id, props: { ...props, ...outs } };
    });
  },

  async update(id: string, olds: State, news: Inputs) {
    return withPlatform(`Could not update ${label(news)}`, async (p) => {
      const settled = await settle(p, news, olds, id);
      return { outs: outputsOf(news, settled) };
    });
  },

  async delete(id: string, props: State) {
    await withPlatform(`Could not delete ${label(props)}`, (p) => p.tokens.delete(id));
    unclaim(id);
  },
};

/**
 * One run of the executor. `olds` is the state (empty for a create): its
 * value, rotations and replaced value. Only a create issues a token; an update
 * finding its token gone asks for a refresh.
 */
async function settle(p: Platform, news: Inputs, olds: State, heldId?: string): Promise<Settled> {
  const now = p.now();
  let previous = carriedPrevious(olds, now);
  let before = ''; // set by `rotating`, which precedes each `rotated`
  const run = await settleToken(
    {
      tokens: p.tokens,
      declaration: declarationOf(news),
      ledger: ledgerOf(news, olds, now),
      sight: { heldId },
    },
    {
      creating(plan) {
        if (heldId) {
          throw new PlanError(
            `token ${plan.replacing ?? heldId} no longer exists; run \`pulumi refresh\``,
          );
        }
      },
      adopted: (plan) => claim(plan.token.entityId, plan.token.id),
      async rotating(plan, value) {
        // What consumers were handed: the state's value (also after a crash
        // that left the rotation done but unrecorded), else the platform's.
        before = olds.value ?? value ?? (await p.tokens.reveal(plan.token.id));
      },
      async rotated(plan, value) {
        previous = await replaced(p, plan, before, value);
      },
    },
  );
  if ('refused' in run) throw new PlanError(run.refused.message);
  const { token, rotations, renewalTime } = run.settled;
  const value = run.settled.value ?? (await currentValue(p, token, olds));
  return { token, value, rotations, previous, renewalTime };
}

/** The value the state holds when it is still the token's (same hint), else the platform's. */
async function currentValue(p: Platform, token: Token, olds: State): Promise<string> {
  return olds.value !== undefined && olds.hint === token.hint
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
  const until = new Date(p.now().getTime() + plan.gracePeriodSeconds * 1000);
  return { value: before, until: until.toISOString() };
}

const fieldName = (c: FieldChange) => (c.field === 'name' ? 'displayName' : c.field);

/**
 * A new declaration that adopts by `tokenId` fails at preview when the token
 * does not exist or belongs to another entity: the planner's judgement, made
 * before anything is created.
 */
async function checkAdoption(
  p: Platform,
  olds: Partial<Inputs>,
  news: Inputs,
): Promise<CheckFailure | null> {
  if (Object.keys(olds).length > 0 || !known(news.tokenId) || !known(news.entityId)) return null;
  const declaration = declarationOf(news);
  const ledger = ledgerOf(news, {}, p.now());
  const plan = await nextTokenAction({ tokens: p.tokens, declaration, ledger, sight: {} });
  if (plan.action !== 'refuse') return null;
  const property = plan.field ?? 'tokenId';
  return { property, reason: `${property}: ${plan.message}` };
}

/**
 * The rules between fields, per property: the platform's (publishable needs origins,
 * cannot sign) and rotation (a lifetime or a fixed expiry, renewBefore shorter).
 */
function fieldRules(news: Inputs): CheckFailure[] {
  const rotation = {
    expiresAt: isUnknown(news.expiresAt) ? null : news.expiresAt,
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
  const tier = await entityTier(p, declaration, news);
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
