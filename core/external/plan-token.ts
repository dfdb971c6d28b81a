/**
 * The ApiToken planner: given what the platform shows, what is declared and the
 * driver's ledger, the one next action — and the idempotency key to use. Pure
 * (the clock is an argument). The operator's ApiToken reconciler and the
 * Pulumi provider's check/diff/create/update/read both ask it, so they decide
 * alike:
 *
 * | facts                                         | action                          |
 * |-----------------------------------------------|---------------------------------|
 * | the held token is gone from the platform      | create (next issuance)          |
 * | nothing held, `tokenId` names no token        | refuse NotFound                 |
 * | nothing held, `tokenId` of another entity     | refuse EntityMismatch           |
 * | nothing held, `tokenId` found                 | adopt it (with its changes)     |
 * | nothing held, `adoptDefaultToken`, found      | adopt the default token         |
 * | nothing held, `adoptDefaultToken`, none left  | create (noted: nothing to adopt)|
 * | nothing held otherwise                        | create                          |
 * | held, first issuance, `tokenId` names another | replace                         |
 * | held, fields that cannot change (entity)      | replace                         |
 * | held, fields that change in place             | update (the changes)            |
 * | held, rotation due (a `lifetime` ledger)      | rotate                          |
 * | held, up to date                              | none                            |
 * | (any) a declared scope above the entity's tier | refuse ScopeAboveTier (retried: |
 * |                                               | an upgrade of the entity clears)|
 *
 * A create refused with 410 idempotency-gone (the token an earlier request with
 * the same key created was removed since) counts as gone (see `createOrGone`),
 * so the next issuance gets a new key. Adoption happens only for the first
 * issuance: a token that vanished after it was adopted is replaced by a new
 * one, never by adopting again. When the
 * default token to adopt is missing (the entity was created with
 * `defaultToken: false`, or it was removed), both drivers issue a new token:
 * the declaration asks for a token the application can use, and adoption is a
 * way to get it without a second token, not a condition.
 */
import { checkScopeCeiling } from '../domain/rules.ts';
import type { TierTable } from '../domain/tiers.ts';
import type { Token } from '../schemas/token.ts';
import {
  type DesiredToken,
  describeChanges,
  type FieldChange,
  needsReplace,
  tokenChanges,
} from './changes.ts';
import { notFound, Reasons, type Refusal, refuse } from './reasons.ts';
import { expiryFromLifetime } from './renewal.ts';
import { type RotationPolicy, rotationPlan } from './rotation.ts';

export type TokenDeclaration = {
  desired: DesiredToken;
  /** Adopt this existing token. */
  tokenId?: string | undefined;
  /** Adopt the entity's auto-issued `default` token. */
  adoptDefaultToken?: boolean | undefined;
  /** Rotated `renewBefore` ahead of expiry, each value living `lifetime`. */
  rotation?: RotationPolicy | undefined;
};

/** How the held token came to be held: recorded before, or taken over just now. */
export type Origin = 'recorded' | 'created' | 'adopted';

export type TokenFacts = {
  /** The entity's tier and the platform's tier table, when known: scopes are judged ahead of the platform. */
  tier?: { name: string; table: TierTable } | undefined;
  /** The token this declaration holds; `{ gone }` when the recorded one no longer exists. */
  held?: { token: Token; origin: Origin } | { gone: string } | undefined;
  /** What `tokenId` names (looked up while nothing is held); null: no such token. */
  named?: Token | null | undefined;
  /** The entity's default token (looked up for `adoptDefaultToken` while nothing is held). */
  defaultToken?: Token | null | undefined;
};

/**
 * What a driver keeps of one declaration between runs (the operator in the
 * ApiToken's status, the provider in its state), and the time it is judged at:
 * the idempotency keys derive from it.
 */
export type TokenLedger = {
  /** Stable for the declaration across crashes and retries (the object's uid, the resource URN …). */
  identity: string;
  /** Tokens issued for this declaration so far after the first (0 at first). */
  issuance: number;
  /** Rotations of the current token so far. */
  rotations: number;
  now: Date;
};

export type TokenAction =
  | {
      action: 'create';
      idempotencyKey: string;
      /** The issuance this create starts (bumped when the held token is gone). */
      issuance: number;
      /** The id of the vanished token this one replaces. */
      replacing?: string;
      /** `adoptDefaultToken` found no default token to take over. */
      noDefault?: boolean;
    }
  | { action: 'adopt'; token: Token; source: 'tokenId' | 'default' }
  | { action: 'update'; token: Token; changes: FieldChange[] }
  | RotateAction
  | { action: 'replace'; token: Token; changes: FieldChange[]; message: string }
  | { action: 'none'; token: Token; renewalTime: Date | null }
  | Refusal;

export type RotateAction = {
  action: 'rotate';
  token: Token;
  idempotencyKey: string;
  gracePeriodSeconds: number;
  /** The expiry of the new value. */
  expiresAt: string;
};

export const tokenCreateKey = (identity: string, issuance: number) => `${identity}:${issuance}`;

export function planToken(
  declaration: TokenDeclaration,
  facts: TokenFacts,
  ledger: TokenLedger,
): TokenAction {
  const ceiling = scopeCeiling(declaration, facts);
  if (ceiling) return ceiling;
  const held = facts.held;
  if (held && 'gone' in held) {
    const issuance = ledger.issuance + 1;
    return {
      action: 'create',
      idempotencyKey: tokenCreateKey(ledger.identity, issuance),
      issuance,
      replacing: held.gone,
    };
  }
  if (!held) return planIssue(declaration, facts, ledger);
  return planHeld(declaration, held.token, held.origin, ledger);
}

/**
 * README "Token permissions and limits" ceiling, judged ahead of the platform when the entity's tier is
 * known: refused (and retried by the operator) while the tier lacks a declared
 * scope; the provider's `check` fails the plan with the same message.
 */
export function scopeCeiling(
  declaration: Pick<TokenDeclaration, 'desired'>,
  facts: Pick<TokenFacts, 'tier'>,
): Refusal | null {
  const scopes = declaration.desired.permissions?.scopes;
  if (!scopes || !facts.tier?.table.find(facts.tier.name)) return null;
  const violation = checkScopeCeiling(facts.tier.table, facts.tier.name, scopes);
  return violation ? refuse(Reasons.ScopeAboveTier, violation.detail, true, 'scopes') : null;
}

/** A declaration that adopts by `tokenId` holds that token, until it vanishes (a later issuance). */
function adoptionChange(declaration: TokenDeclaration, token: Token, ledger: TokenLedger) {
  const tokenId = declaration.tokenId;
  return tokenId && ledger.issuance === 0 && tokenId !== token.id
    ? [{ field: 'tokenId', from: token.id, to: tokenId, action: 'replace' as const }]
    : [];
}

function planIssue(
  declaration: TokenDeclaration,
  facts: TokenFacts,
  ledger: TokenLedger,
): TokenAction {
  const create = (noDefault?: boolean): TokenAction => ({
    action: 'create',
    idempotencyKey: tokenCreateKey(ledger.identity, ledger.issuance),
    issuance: ledger.issuance,
    ...(noDefault ? { noDefault } : {}),
  });
  if (ledger.issuance > 0) return create();
  const entityId = declaration.desired.entityId;
  if (declaration.tokenId) {
    const named = facts.named;
    if (!named)
      return notFound(
        'token',
        declaration.tokenId,
        'tokenId',
        'remove tokenId to issue a new token',
      );
    if (named.entityId !== entityId) {
      return refuse(
        Reasons.EntityMismatch,
        `Token ${named.id} (tokenId) belongs to entity ${named.entityId}, not to the declared entity ${entityId}; ` +
          'a token cannot move between entities. Declare entity ' +
          `${named.entityId}, or adopt a token of entity ${entityId}.`,
        false,
        'tokenId',
      );
    }
    return { action: 'adopt', token: named, source: 'tokenId' };
  }
  if (declaration.adoptDefaultToken) {
    return facts.defaultToken
      ? { action: 'adopt', token: facts.defaultToken, source: 'default' }
      : create(true);
  }
  return create();
}

function planHeld(
  declaration: TokenDeclaration,
  token: Token,
  origin: Origin,
  ledger: TokenLedger,
): TokenAction {
  const changes = [
    ...adoptionChange(declaration, token, ledger),
    ...tokenChanges(withLifetime(declaration, token, origin, ledger.now), token),
  ];
  if (needsReplace(changes)) {
    return {
      action: 'replace',
      token,
      changes,
      message:
        `Token ${token.id} differs in fields that cannot change in place (${describeChanges(changes)}). ` +
        'Fix the declaration, or delete and recreate it to issue a new token.',
    };
  }
  if (changes.length > 0) return { action: 'update', token, changes };
  if (!declaration.rotation) return { action: 'none', token, renewalTime: null };
  const plan = rotationPlan(declaration.rotation, token.expiresAt, ledger.now);
  if (!plan.due) return { action: 'none', token, renewalTime: plan.renewalTime };
  return {
    action: 'rotate',
    token,
    idempotencyKey: `${tokenCreateKey(ledger.identity, ledger.issuance)}:rotate:${ledger.rotations}`,
    gracePeriodSeconds: plan.gracePeriodSeconds,
    expiresAt: expiryFromLifetime(ledger.now, plan.lifetimeMs),
  };
}

/**
 * A token given a lifetime gets its expiry from it once, when it is taken over:
 * counted from its creation when issued for us (the create request leaves the
 * expiry out so that a repeated create has the same body), from now when adopted
 * — or when the lifetime since its creation is already over (a create replayed
 * long after), as the platform refuses an expiry in the past.
 */
function withLifetime(
  declaration: TokenDeclaration,
  token: Token,
  origin: Origin,
  now: Date,
): DesiredToken {
  const rotation = declaration.rotation;
  if (!rotation || origin === 'recorded') return declaration.desired;
  const { lifetimeMs } = rotationPlan(rotation, null, now);
  const created = Date.parse(token.createdAt);
  const fromCreation = origin === 'created' && created + lifetimeMs > now.getTime();
  const from = fromCreation ? new Date(created) : now;
  return { ...declaration.desired, expiresAt: expiryFromLifetime(from, lifetimeMs) };
}
