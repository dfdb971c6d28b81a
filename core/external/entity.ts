import type { TokenplaneClient } from '../client/index.ts';
import type { TierTable } from '../domain/tiers.ts';
import type { CreateEntityResponse, Entity, UpdateEntityRequest } from '../schemas/entity.ts';
import { type DesiredEntity, type FieldChange, patchOf } from './changes.ts';
import { type External, gone, orNull } from './external.ts';
import type { EntityDeclaration, EntityFacts, ParentFacts } from './plan-entity.ts';

/** Where `observe` looks, besides the platform. */
export type EntitySight = {
  /** The platform's tier table (GET /v1/tiers), as the driver caches it. */
  tiers(): Promise<TierTable>;
  /** The entity the declaration holds, as last recorded. */
  heldId?: string | undefined;
  /**
   * The parent for the tier rules: as the driver knows it (the operator's
   * informer cache), or `'read'`: the declared parent, read from the platform
   * when the rules need it (nothing held yet, or a tier change). Left out, the
   * platform judges the parent alone.
   */
  parent?: ParentFacts | 'read' | undefined;
};

export class EntityExternal implements External<DesiredEntity, Entity, CreateEntityResponse> {
  readonly #client: TokenplaneClient;

  constructor(client: TokenplaneClient) {
    this.#client = client;
  }

  find(id: string): Promise<Entity | null> {
    return orNull(this.#client.getEntity(id));
  }

  /**
   * Every fact the Entity planner reads: the tier table; the held entity (or
   * that it is gone), otherwise the one `externalId` names; and, when the tier
   * rules need them, the parent and — for a reseller whose tier is to change —
   * its children's tiers (no driver's cache holds them all).
   */
  async observe(declaration: EntityDeclaration, sight: EntitySight): Promise<EntityFacts> {
    const [tiers, found] = await Promise.all([
      sight.tiers(),
      this.#facts(sight.heldId, declaration.externalId),
    ]);
    const facts: EntityFacts = { tiers, ...found };
    const held = facts.held && 'entity' in facts.held ? facts.held.entity : undefined;
    const judged = !held || held.tier !== declaration.desired.tier;
    const { parent } = sight;
    const parentId = declaration.desired.parentId;
    if (parent !== 'read') facts.parent = parent;
    else if (judged && parentId) facts.parent = await this.#parent(parentId);
    if (held && judged && held.kind === 'reseller') {
      const children = await this.#client.listAllEntities({ parentId: held.id });
      facts.childTiers = children.map((c) => c.tier);
    }
    return facts;
  }

  /** The held entity (or that it is gone); otherwise the one `externalId` names. */
  async #facts(
    heldId: string | undefined,
    externalId: string | undefined,
  ): Promise<Pick<EntityFacts, 'held' | 'adoptee'>> {
    if (heldId) {
      const entity = await this.find(heldId);
      return { held: entity ? { entity } : { gone: heldId } };
    }
    return externalId ? { adoptee: await this.find(externalId) } : {};
  }

  async #parent(id: string): Promise<ParentFacts | null> {
    const parent = await this.find(id);
    return parent && { name: parent.name, tier: parent.tier, kind: parent.kind };
  }

  create(desired: DesiredEntity, idempotencyKey: string): Promise<CreateEntityResponse> {
    const { name, kind, tier, parentId, defaultToken } = desired;
    return this.#client.createEntity(
      { name, kind, tier, defaultToken, ...(parentId ? { parentId } : {}) },
      { idempotencyKey },
    );
  }

  update(id: string, changes: readonly FieldChange[]): Promise<Entity> {
    return this.#client.updateEntity(id, patchOf(changes) as UpdateEntityRequest);
  }

  delete(id: string): Promise<void> {
    return gone(this.#client.deleteEntity(id));
  }
}
