import type { TokenplaneClient } from '../client/index.ts';
import type { CreateEntityResponse, Entity, UpdateEntityRequest } from '../schemas/entity.ts';
import { type DesiredEntity, type FieldChange, patchOf } from './changes.ts';
import { type External, gone, orNull } from './external.ts';
import type { EntityFacts } from './plan-entity.ts';

export class EntityExternal implements External<DesiredEntity, Entity, CreateEntityResponse> {
  readonly #client: TokenplaneClient;

  constructor(client: TokenplaneClient) {
    this.#client = client;
  }

  find(id: string): Promise<Entity | null> {
    return orNull(this.#client.getEntity(id));
  }

  /** The held entity (or that it is gone); otherwise the one `externalId` names. */
  async facts(
    heldId: string | undefined,
    externalId: string | undefined,
  ): Promise<Pick<EntityFacts, 'held' | 'adoptee'>> {
    if (heldId) {
      const entity = await this.find(heldId);
      return { held: entity ? { entity } : { gone: heldId } };
    }
    return externalId ? { adoptee: await this.find(externalId) } : {};
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
