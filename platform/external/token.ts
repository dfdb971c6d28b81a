import type { TokenplaneClient } from '../client/index.ts';
import type { Token, TokenWithValue, UpdateTokenRequest } from '../schemas/token.ts';
import { type DesiredToken, type FieldChange, patchOf, tokenChanges } from './changes.ts';
import { type External, gone, type Observation, observation, orNull } from './external.ts';
import type { RotateAction, TokenDeclaration, TokenFacts } from './plan-token.ts';

/** The name the platform gives the token it issues with every new entity. */
export const DEFAULT_TOKEN_NAME = 'default';

export class TokenExternal implements External<DesiredToken, Token, TokenWithValue> {
  readonly #client: TokenplaneClient;

  constructor(client: TokenplaneClient) {
    this.#client = client;
  }

  async observe(id: string, desired: DesiredToken): Promise<Observation<Token>> {
    const actual = await this.find(id);
    return actual ? observation(actual, tokenChanges(desired, actual)) : { exists: false };
  }

  find(id: string): Promise<Token | null> {
    return orNull(this.#client.getToken(id));
  }

  /**
   * What the planner needs to know, read with as few calls as the situation
   * allows: the held token when there is one; otherwise, for the first issuance,
   * the token to adopt.
   */
  async facts(
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

  /** The entity's auto-issued default token (the oldest one named `default`), if it still exists. */
  async findDefault(entityId: string): Promise<Token | null> {
    const tokens = await this.#client.listAllTokens(entityId);
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
   */
  async rotatePlanned(plan: RotateAction): Promise<{ token: Token; value: string }> {
    const { id } = plan.token;
    const rotated = await this.rotate(id, plan.gracePeriodSeconds, plan.idempotencyKey);
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
