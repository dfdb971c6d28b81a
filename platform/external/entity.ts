import { isNotFound, type TokenplaneClient } from '../client/index.ts';
import type { CreateEntityResponse, Entity, UpdateEntityRequest } from '../schemas/entity.ts';
import { type DesiredEntity, entityChanges, type FieldChange, patchOf } from './changes.ts';
import { type External, type Observation, observation } from './external.ts';

export class EntityExternal implements External<DesiredEntity, Entity, CreateEntityResponse> {
  readonly #client: TokenplaneClient;

  constructor(client: TokenplaneClient) {
    this.#client = client;
  }

  async observe(id: string, desired: DesiredEntity): Promise<Observation<Entity>> {
    const actual = await this.find(id);
    return actual ? observation(actual, entityChanges(desired, actual)) : { exists: false };
  }

  async find(id: string): Promise<Entity | null> {
    try {
      return await this.#client.getEntity(id);
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
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

  async delete(id: string): Promise<void> {
    try {
      await this.#client.deleteEntity(id);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
