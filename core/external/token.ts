import { IdempotencyGoneError, type TokenplaneClient } from '../client/index.ts';
import type { TierTable } from '../domain/tiers.ts';
import type { Token, TokenWithValue, UpdateTokenRequest } from '../schemas/token.ts';
import { type DesiredToken, type FieldChange, patchOf } from './changes.ts';
import { type External, gone, orNull } from './external.ts';
import type { RotateAction, TokenDeclaration, TokenFacts } from './plan-token.ts';

/** The name the platform gives the token it issues with every new entity. */
export const DEFAULT_TOKEN_NAME = 'default';

/** Where `observe` looks, besides the platform. */
export type TokenSight = {
  /** The token the declaration holds, as last recorded. */
  heldId?: string | undefined;
  /** Tokens issued after the first (the policy's): only the first issuance adopts. */
  issuance?: number | undefined;
  /**
   * The entity's tier, when the driver knows it (the operator's Entity cache),
   * and where the platform's tier table comes from: scopes are then judged
   * ahead of the platform. Left out, the platform judges them.
   */
  tier?: { name: string; table(): Promise<TierTable> } | undefined;
};

export class TokenExternal implements External<DesiredToken, Token, TokenWithValue> {
  readonly #client: TokenplaneClient;

  constructor(client: TokenplaneClient) {
    this.#client = client;
  }

  find(id: string): Promise<Token | null> {
    return orNull(this.#client.getToken(id));
  }

  /**
   * Every fact the ApiToken planner reads, with as few calls as the situation
   * allows: the held token when there is one, otherwise (first issuance) the
   * token to adopt; and the entity's tier with the tier table.
   */
  async observe(declaration: TokenDeclaration, sight: TokenSight): Promise<TokenFacts> {
    const facts = await this.#facts(declaration, sight.heldId, sight.issuance);
    const { tier } = sight;
    if (tier) facts.tier = { name: tier.name, table: await tier.table() };
    return facts;
  }

  /**
   * What the planner needs to know, read with as few calls as the situation
   * allows: the held token when there is one; otherwise, for the first issuance,
   * the token to adopt.
   */
  async #facts(
    declaration: TokenDeclaration,
    heldId: string | undefined,
    issuance = 0,
  ): Promise<TokenFacts> {
    if (heldId) {
      const token = await this.find(heldId);
      return { held: token ? { token, origin: 'recorded' } : { gone: heldId } };
    }
    if (issuance > 0) return {};
    if (declaration.tokenId) return { named: await this.find(declaration.tokenId) };
    if (declaration.adoptDefaultToken) {
      return { defaultToken: await this.findDefault(declaration.desired.entityId) };
    }
    return {};
  }

  create(desired: DesiredToken, idempotencyKey: string): Promise<TokenWithValue> {
    const { entityId, name, status, expiresAt, permissions } = desired;
    return this.#client.createToken(
      entityId,
      { name, status, ...(expiresAt !== undefined ? { expiresAt } : {}), ...permissions },
      { idempotencyKey },
    );
  }

  update(id: string, changes: readonly FieldChange[]): Promise<Token> {
    return this.#client.updateToken(id, patchOf(changes) as UpdateTokenRequest);
  }

  delete(id: string): Promise<void> {
    return gone(this.#client.deleteToken(id));
  }

  /**
   * The entity's default token: the one found before (`knownId`) while it
   * still exists — an ApiToken that adopts it may rename it — else the oldest
   * token named "default".
   */
  async findDefault(entityId: string, knownId?: string): Promise<Token | null> {
    const tokens = await this.#client.listAllTokens(entityId);
    const known = tokens.find((t) => t.id === knownId);
    if (known) return known;
    const defaults = tokens
      .filter((t) => t.name === DEFAULT_TOKEN_NAME)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    return defaults[0] ?? null;
  }

  reveal(id: string): Promise<string> {
    return this.#client.revealToken(id);
  }

  /** Rotation keeps the token id; the previous value verifies for `gracePeriodSeconds`. */
  rotate(id: string, gracePeriodSeconds: number, idempotencyKey: string): Promise<TokenWithValue> {
    return this.#client.rotateToken(id, { gracePeriodSeconds }, { idempotencyKey });
  }

  /**
   * A rotation the planner decided: a new value under the same id (replayed,
   * not repeated, after a crash: the key names the rotation), then the expiry
   * the declared lifetime gives it.
   *
   * Null when the platform refuses that replay (410 idempotency-gone: the token
   * was rotated again since, outside the declaration, so this rotation's value
   * is dead): the rotation counts as done and the driver moves on to the next
   * rotation count, whose key is new — one more rotation, never a new token.
   */
  async rotatePlanned(plan: RotateAction): Promise<{ token: Token; value: string } | null> {
    const { id } = plan.token;
    let rotated: TokenWithValue;
    try {
      rotated = await this.rotate(id, plan.gracePeriodSeconds, plan.idempotencyKey);
    } catch (err) {
      if (err instanceof IdempotencyGoneError && err.problem.gone === 'token') return null;
      throw err;
    }
    const token = await this.update(id, [
      { field: 'expiresAt', from: rotated.expiresAt, to: plan.expiresAt, action: 'update' },
    ]);
    return { token, value: rotated.value };
  }

  /** Whether `value` still authenticates as token `id` (introspection: consumes no usage). */
  async verifies(id: string, value: string): Promise<boolean> {
    const answer = await this.#client.introspect(value);
    return answer.active && answer.tokenId === id;
  }
}
