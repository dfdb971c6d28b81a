/**
 * The one executor of the planners' decisions, for both drivers (after
 * crossplane-runtime's managed reconciler, whose engine drives every external
 * client alike): observe through the External, ask the planner, carry out its
 * answer through the External — create (or learn that the key's object is
 * gone), adopt, update, rotate — with the facts and the ledger's counts
 * brought up to date, and ask again, until the planner has nothing left to do
 * or refuses. A replacement is a refusal here: neither a Kubernetes object nor
 * a Pulumi update replaces what it holds (the provider's `diff` asks for it).
 *
 * Drivers pass hooks: the operator turns them into Events and its status
 * draft, the Pulumi provider into its quota claims and the previous value. A
 * hook may throw to stop the run (the provider's update never creates).
 */
import type { CreateEntityResponse, Entity } from '../schemas/entity.ts';
import type { Token } from '../schemas/token.ts';
import type { EntityExternal, EntitySight } from './entity.ts';
import { createOrGone } from './external.ts';
import { type EntityAction, type EntityDeclaration, planEntity } from './plan-entity.ts';
import {
  type Origin,
  planToken,
  type RotateAction,
  type TokenAction,
  type TokenDeclaration,
  type TokenLedger,
} from './plan-token.ts';
import { Reasons, type Refusal, refuse } from './reasons.ts';
import type { TokenExternal, TokenSight } from './token.ts';

/**
 * A replayed create whose object is gone, the create (or adoption), an update,
 * a superseded rotation, the rotation: never more actions than this in a run.
 */
export const MAX_ACTIONS = 5;

/** How a run ends: the platform object as declared, or why not. */
export type Outcome<S> = { settled: S } | { refused: Refusal };

/** The one answer when the actions run out; worth retrying, as the platform moved meanwhile. */
export const NOT_SETTLED: Refusal = refuse(
  Reasons.PlatformError,
  `The platform object did not reach the declared state within ${MAX_ACTIONS} actions ` +
    '(something may be changing it at the same time). Apply again: the operator retries by ' +
    'itself; with Pulumi, run `pulumi up` again.',
  true,
);

/** What a run tells its driver, kind by kind. */
type Hooks<Made, Create, Adopt> = {
  /** Before each round (the operator's deadline). */
  round?(): void;
  /** Before a create, which replaces a vanished object when `plan.replacing` is set. */
  creating?(plan: Create): void;
  created?(made: Made, plan: Create): void;
  adopted?(plan: Adopt): void;
};

type TokenDoing<A> = Extract<TokenAction, { action: A }>;
type EntityDoing<A> = Extract<EntityAction, { action: A }>;

export type TokenHooks = Hooks<Token, TokenDoing<'create'>, TokenDoing<'adopt'>> & {
  /** `origin`: how this run came to hold the token ('recorded': before it). */
  updated?(token: Token, plan: TokenDoing<'update'>, origin: Origin): void;
  /** Before a rotation's call, with the value this run was handed so far, if any. */
  rotating?(plan: RotateAction, value: string | undefined): Promise<void> | void;
  /** A new value; the previous one verifies for `plan.gracePeriodSeconds`. */
  rotated?(plan: RotateAction, value: string): Promise<void> | void;
  /**
   * The replay of rotation number `rotation` was refused: the token was rotated
   * again since, outside the declaration; the next count rotates anew.
   */
  superseded?(plan: RotateAction, rotation: number): void;
};

export type EntityHooks = Hooks<
  CreateEntityResponse,
  EntityDoing<'create'>,
  EntityDoing<'adopt'>
> & {
  updated?(entity: Entity, plan: EntityDoing<'update'>): void;
};

export type TokenVerbs = Pick<TokenExternal, 'observe' | 'create' | 'update' | 'rotatePlanned'>;
export type EntityVerbs = Pick<EntityExternal, 'observe' | 'create' | 'update'>;

export type TokenRun = {
  tokens: TokenVerbs;
  declaration: TokenDeclaration;
  /** Its `issuance` and `rotations` advance as the run creates and rotates. */
  ledger: TokenLedger;
  sight: Omit<TokenSight, 'issuance'>;
};

export type SettledToken = {
  token: Token;
  /** How this run came to hold the token: 'recorded' when it held it before. */
  origin: Origin;
  /** The value, when a create or a rotation of this run returned it. */
  value?: string | undefined;
  issuance: number;
  rotations: number;
  /** When the token is due for rotation; null when it never is. */
  renewalTime: Date | null;
};

export type EntityRun = {
  entities: EntityVerbs;
  declaration: EntityDeclaration;
  /** Stable for the declaration across crashes and retries: the idempotency keys derive from it. */
  identity: string;
  sight: EntitySight;
};

/** The planner's next action on what the platform shows, carried out by no one (`check`, `diff`). */
export async function nextTokenAction(run: TokenRun): Promise<TokenAction> {
  const { tokens, declaration, ledger, sight } = run;
  const facts = await tokens.observe(declaration, { ...sight, issuance: ledger.issuance });
  return planToken(declaration, facts, ledger);
}

export async function nextEntityAction(run: EntityRun): Promise<EntityAction> {
  const { entities, declaration, identity, sight } = run;
  return planEntity(declaration, await entities.observe(declaration, sight), identity);
}

export async function settleToken(
  run: TokenRun,
  hooks: TokenHooks = {},
): Promise<Outcome<SettledToken>> {
  const { tokens, declaration, ledger } = run;
  const facts = await tokens.observe(declaration, { ...run.sight, issuance: ledger.issuance });
  let origin: Origin = 'recorded';
  let value: string | undefined;
  return rounds<SettledToken>(hooks, () => {
    const plan = planToken(declaration, facts, ledger);
    switch (plan.action) {
      case 'refuse':
      case 'replace':
        return { refused: refusalOf(plan) };
      case 'none': {
        const { token, renewalTime } = plan;
        const { issuance, rotations } = ledger;
        return { settled: { token, origin, value, issuance, rotations, renewalTime } };
      }
      case 'create':
        return async () => {
          hooks.creating?.(plan);
          const made = await createOrGone(
            tokens,
            declaration.desired,
            plan.idempotencyKey,
            'token',
          );
          ledger.issuance = plan.issuance;
          if ('gone' in made) {
            facts.held = made;
            return;
          }
          const { value: issued, ...token } = made.created;
          value = issued;
          origin = 'created';
          facts.held = { token, origin };
          hooks.created?.(token, plan);
        };
      case 'adopt':
        return async () => {
          origin = 'adopted';
          facts.held = { token: plan.token, origin };
          hooks.adopted?.(plan);
        };
      case 'update':
        return async () => {
          const token = await tokens.update(plan.token.id, plan.changes);
          facts.held = { token, origin };
          hooks.updated?.(token, plan, origin);
        };
      case 'rotate':
        return async () => {
          await hooks.rotating?.(plan, value);
          const rotated = await tokens.rotatePlanned(plan);
          const rotation = ledger.rotations++;
          if (!rotated) {
            hooks.superseded?.(plan, rotation);
            return;
          }
          value = rotated.value;
          // Its expiry is the rotation's now, whoever issued the token.
          facts.held = { token: rotated.token, origin: 'recorded' };
          await hooks.rotated?.(plan, rotated.value);
        };
    }
  });
}

export async function settleEntity(
  run: EntityRun,
  hooks: EntityHooks = {},
): Promise<Outcome<Entity>> {
  const { entities, declaration, identity } = run;
  const facts = await entities.observe(declaration, run.sight);
  return rounds<Entity>(hooks, () => {
    const plan = planEntity(declaration, facts, identity);
    switch (plan.action) {
      case 'refuse':
      case 'replace':
        return { refused: refusalOf(plan) };
      case 'none':
        return { settled: plan.entity };
      case 'create':
        return async () => {
          hooks.creating?.(plan);
          const { desired } = declaration;
          const made = await createOrGone(entities, desired, plan.idempotencyKey, 'entity');
          facts.held = 'gone' in made ? made : { entity: made.created };
          if ('created' in made) hooks.created?.(made.created, plan);
        };
      case 'adopt':
        return async () => {
          facts.held = { entity: plan.entity };
          hooks.adopted?.(plan);
        };
      case 'update':
        return async () => {
          const entity = await entities.update(plan.entity.id, plan.changes);
          facts.held = { entity };
          hooks.updated?.(entity, plan);
        };
    }
  });
}

/**
 * Asks for the next decision after `hooks.round`: an outcome ends the run, an
 * action is carried out — at most MAX_ACTIONS of them.
 */
async function rounds<S>(
  hooks: { round?(): void },
  decide: () => Outcome<S> | (() => Promise<void>),
): Promise<Outcome<S>> {
  for (let actions = 0; ; actions++) {
    hooks.round?.();
    const next = decide();
    if (typeof next !== 'function') return next;
    if (actions === MAX_ACTIONS) return { refused: NOT_SETTLED };
    await next();
  }
}

const refusalOf = (plan: Refusal | { action: 'replace'; message: string }): Refusal =>
  plan.action === 'refuse' ? plan : refuse(Reasons.NeedsReplace, plan.message, false);
